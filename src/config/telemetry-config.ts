import { ConfigError } from "./config-error.ts";
import { expectObj, num, type Obj, optStr, rejectUnknown, resolveSecret, str } from "./validate.ts";

/** OpenTelemetry tracing, from `[telemetry]` and the standard `OTEL_*` variables (which win). */
export interface TelemetryConfig {
	enabled: boolean;
	/** Where spans are posted (OTLP over HTTP, JSON encoding). */
	traces_url: string;
	/** Sent with every export (a collector's auth token); never logged. */
	headers: Record<string, string>;
	service_name: string;
	/** Fraction of new traces recorded (0–1). */
	sample_ratio: number;
	/** A caller's `traceparent` decides whether its request is sampled. */
	parent_based: boolean;
	/** Send a `traceparent` naming the attempt span to upstreams. */
	propagate_to_upstream: boolean;
}

type Env = Record<string, string | undefined>;

const DEFAULT_ENDPOINT = "http://localhost:4318";
const SAMPLERS = [
	"always_on",
	"always_off",
	"traceidratio",
	"parentbased_always_on",
	"parentbased_always_off",
	"parentbased_traceidratio",
];

function bool(o: Obj, key: string, path: string, fallback: boolean): boolean {
	const v = o[key];
	if (v === undefined) return fallback;
	if (typeof v !== "boolean") throw new ConfigError(`${path}${key}`, "must be true or false");
	return v;
}

/** `k1=v1,k2=v2` with URL-encoded values (the OTLP exporter's header format). */
function parseHeaderList(v: string, name: string): Record<string, string> {
	const out: Record<string, string> = {};
	for (const pair of v.split(",")) {
		if (!pair.trim()) continue;
		const eq = pair.indexOf("=");
		if (eq <= 0) throw new ConfigError(name, "must be a comma-separated list of key=value");
		out[decodeURIComponent(pair.slice(0, eq).trim())] = decodeURIComponent(pair.slice(eq + 1).trim());
	}
	return out;
}

const set = (v: string | undefined) => (v === undefined || v.trim() === "" ? undefined : v.trim());

/** The sampler the environment names, as ratio and parent-based flag; undefined when unset. */
function envSampler(env: Env): { ratio: number; parentBased: boolean } | undefined {
	const name = set(env.OTEL_TRACES_SAMPLER)?.toLowerCase();
	if (name === undefined) return undefined;
	if (!SAMPLERS.includes(name)) {
		throw new ConfigError("OTEL_TRACES_SAMPLER", `must be one of ${SAMPLERS.join(", ")}, got "${name}"`);
	}
	let ratio = name.endsWith("always_off") ? 0 : 1;
	if (name.endsWith("traceidratio")) {
		const arg = set(env.OTEL_TRACES_SAMPLER_ARG);
		ratio = arg === undefined ? 1 : Number(arg);
		if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1) {
			throw new ConfigError("OTEL_TRACES_SAMPLER_ARG", `must be a number from 0 to 1, got "${arg}"`);
		}
	}
	return { ratio, parentBased: name.startsWith("parentbased_") };
}

/**
 * Tracing is on when `[telemetry] enabled = true` or an OTLP endpoint is set in the
 * environment, and off whatever else says so when `OTEL_SDK_DISABLED=true` or
 * `OTEL_TRACES_EXPORTER=none`.
 */
export function parseTelemetry(raw: unknown, env: Env): TelemetryConfig {
	const t = expectObj(raw, "telemetry");
	rejectUnknown(
		t,
		["enabled", "endpoint", "headers", "service_name", "sample_ratio", "propagate_to_upstream"],
		"telemetry",
	);
	const tracesEndpoint = set(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
	const baseEndpoint = set(env.OTEL_EXPORTER_OTLP_ENDPOINT);
	const protocol = set(env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL);
	if (protocol === "grpc") {
		throw new ConfigError("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc is not supported: spans are sent over OTLP/HTTP");
	}
	const disabled = set(env.OTEL_SDK_DISABLED)?.toLowerCase() === "true" || set(env.OTEL_TRACES_EXPORTER) === "none";
	const enabled =
		!disabled &&
		(bool(t, "enabled", "telemetry.", false) || tracesEndpoint !== undefined || baseEndpoint !== undefined);

	const base = (baseEndpoint ?? optStr(t, "endpoint", "telemetry.") ?? DEFAULT_ENDPOINT).replace(/\/+$/, "");
	const tracesUrl = tracesEndpoint ?? `${base}/v1/traces`;
	if (!/^https?:\/\//.test(tracesUrl)) throw new ConfigError("telemetry.endpoint", "must be an http(s) URL");

	const headers: Record<string, string> = {};
	for (const [k, v] of Object.entries(expectObj(t.headers, "telemetry.headers"))) {
		if (typeof v !== "string") throw new ConfigError(`telemetry.headers.${k}`, "must be a string");
		headers[k] = resolveSecret(v, `telemetry.headers.${k}`, env) ?? "";
	}
	for (const name of ["OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS"]) {
		const v = set(env[name]);
		if (v !== undefined) Object.assign(headers, parseHeaderList(v, name));
	}

	const ratio = num(t, "sample_ratio", "telemetry.", 1);
	if (ratio > 1) throw new ConfigError("telemetry.sample_ratio", "must be from 0 to 1");
	const sampler = envSampler(env);
	return {
		enabled,
		traces_url: tracesUrl,
		headers,
		service_name: set(env.OTEL_SERVICE_NAME) ?? str(t, "service_name", "telemetry.", "interchange"),
		sample_ratio: sampler?.ratio ?? ratio,
		parent_based: sampler?.parentBased ?? true,
		propagate_to_upstream: bool(t, "propagate_to_upstream", "telemetry.", false),
	};
}
