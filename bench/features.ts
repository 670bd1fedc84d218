/**
 * Feature costs: the same load against gateway variants, each compared with its baseline
 * (the median of per-round ratios over rotating rounds: this machine drifts by ±10–20%)
 * audit on vs off, three accounts vs one, a virtual key with every limit vs a static key,
 * Anthropic → OpenAI stream translation vs OpenAI pass-through, and body logging on (every
 * request's bodies stored, `GATEWAY_LOG_BODIES=all`) vs off.
 */
import type { MockUpstream } from "../test/support/mock-upstream.ts";
import {
	BENCH_ADMIN_TOKEN,
	configFile,
	createLimitedKey,
	gatewayEnvFor,
	type ServerProcess,
	startGateway,
} from "./gateway-process.ts";
import { type LoadResult, runLoad } from "./load.ts";
import { perRoundRatio } from "./report.ts";
import { plainChat, type Scenario, streamedChat } from "./scenarios.ts";

export interface FeatureRow {
	variant: string;
	scenario: string;
	rps: number;
	p50: number;
	p99: number;
	errors: number;
	/** Usage rows the audit writer inserted per second during the run (when known). */
	auditRowsPerSec?: number;
}

export interface FeatureRatio {
	what: string;
	/** Median over rounds of (variant / baseline) measured in the same round. */
	ratio: number;
	/** Lowest and highest per-round ratio. */
	range: [number, number];
	target: string;
}

interface Variant {
	name: string;
	env: Record<string, string>;
	/** Runs after start; returns the client key to use. */
	prepare?: (gw: ServerProcess) => Promise<string>;
	scenarios: Scenario[];
}

async function auditRowsWritten(gw: ServerProcess): Promise<number> {
	const text = await (await fetch(`${gw.url}/metrics`)).text();
	const m = /^interchange_audit_rows_written_total (\d+)/m.exec(text);
	return m ? Number(m[1]) : 0;
}

const claudeStream: Scenario = {
	name: "chat stream (Anthropic upstream)",
	path: "/v1/chat/completions",
	body: { ...(streamedChat.body as object), model: "claude-bench" },
	stream: true,
};

export async function runFeatureComparison(
	mock: MockUpstream,
	concurrency: number,
	seconds: number,
): Promise<{ rows: FeatureRow[]; ratios: FeatureRatio[] }> {
	const base = gatewayEnvFor(mock.url);
	const oneAccount = configFile(mock.url, 1);
	const threeAccounts = configFile(mock.url, 3);
	const common = {
		GATEWAY_API_KEYS: base.GATEWAY_API_KEYS,
		GATEWAY_ADMIN_TOKEN: BENCH_ADMIN_TOKEN,
	};
	// an OTLP/HTTP sink for the traced variant: it takes every export and keeps nothing
	const otlpSink = Bun.serve({
		port: 0,
		hostname: "127.0.0.1",
		fetch: async (req) => {
			await req.arrayBuffer();
			return Response.json({});
		},
	});
	const variants: Variant[] = [
		{
			name: "audit off",
			env: { ...common, GATEWAY_CONFIG: oneAccount, GATEWAY_AUDIT: "off" },
			scenarios: [plainChat],
		},
		{
			name: "audit on",
			env: { ...common, GATEWAY_CONFIG: oneAccount },
			scenarios: [plainChat, streamedChat, claudeStream],
		},
		{
			// every request traced (100% sampling) and exported
			name: "tracing on",
			env: {
				...common,
				GATEWAY_CONFIG: oneAccount,
				OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${otlpSink.port}`,
				OTEL_TRACES_SAMPLER: "always_on",
			},
			scenarios: [plainChat, streamedChat],
		},
		{
			name: "3 accounts",
			env: { ...common, GATEWAY_CONFIG: threeAccounts },
			scenarios: [plainChat],
		},
		{
			name: "virtual key + limits",
			env: { ...common, GATEWAY_CONFIG: oneAccount },
			prepare: createLimitedKey,
			scenarios: [plainChat],
		},
		{
			name: "body logging on",
			env: { ...common, GATEWAY_CONFIG: oneAccount, GATEWAY_LOG_BODIES: "all" },
			scenarios: [plainChat, streamedChat],
		},
	];
	// BENCH_VARIANTS (comma list of names) narrows the comparison, e.g. to two variants
	const only = process.env.BENCH_VARIANTS?.split(",").map((v) => v.trim());
	if (only) variants.splice(0, variants.length, ...variants.filter((v) => only.includes(v.name)));
	// every variant runs at once (idle ones cost nothing) and the measurements rotate through
	// `rounds` rounds; the median of each is reported, so a passing disturbance on the shared
	// cores cannot decide a comparison on its own
	const rounds = Number(process.env.BENCH_FEATURE_ROUNDS ?? 5);
	const started: { v: Variant; gw: ServerProcess; key: string }[] = [];
	const samples = new Map<string, FeatureRow[]>();
	try {
		for (const v of variants) {
			const gw = await startGateway(v.env);
			started.push({
				v,
				gw,
				key: v.prepare ? await v.prepare(gw) : base.GATEWAY_API_KEYS,
			});
		}
		const jobs = started.flatMap((x) => x.v.scenarios.map((s) => ({ ...x, s })));
		for (let round = 0; round < rounds; round++) {
			const order = round % 2 === 0 ? jobs : [...jobs].reverse();
			for (const { v, gw, key, s } of order) {
				const before = await auditRowsWritten(gw);
				const r: LoadResult = await runLoad({
					url: gw.url,
					path: s.path,
					body: s.body,
					headers: { authorization: `Bearer ${key}` },
					concurrency,
					seconds,
					stream: s.stream,
				});
				const after = await auditRowsWritten(gw);
				const row: FeatureRow = {
					variant: v.name,
					scenario: s.name,
					rps: Math.round(r.rps),
					p50: r.p50,
					p99: r.p99,
					errors: r.errors,
				};
				// warm-up rows are included; the rate is the writer's, over the measured window
				if (v.name === "audit on" && s === plainChat) row.auditRowsPerSec = Math.round((after - before) / seconds);
				const k = `${v.name}\u0000${s.name}`;
				samples.set(k, [...(samples.get(k) ?? []), row]);
				console.log(
					`  round ${round + 1}: ${v.name} / ${s.name}: ${row.rps} req/s, p50 ${row.p50} ms, errors ${row.errors}`,
				);
			}
		}
	} finally {
		for (const x of started) await x.gw.stop();
		otlpSink.stop(true);
	}
	// trimmed mean: the fastest and the slowest round of each are dropped (with 3+ rounds)
	const rows: FeatureRow[] = [...samples.values()].map((runs) => {
		const sorted = [...runs].sort((a, b) => a.rps - b.rps);
		const kept = sorted.length >= 3 ? sorted.slice(1, -1) : sorted;
		const median = sorted[Math.floor(sorted.length / 2)];
		const rps = Math.round(kept.reduce((n, r) => n + r.rps, 0) / kept.length);
		return { ...median, rps, errors: runs.reduce((n, r) => n + r.errors, 0) };
	});
	// each ratio is the median of per-round ratios (the two variants of a round run minutes
	// apart at most, so a drift of the shared box cancels out of each round's ratio)
	const rpsOf = (v: [string, Scenario]) => (samples.get(`${v[0]}\u0000${v[1].name}`) ?? []).map((r) => r.rps);
	const ratio = (a: [string, Scenario], b: [string, Scenario]) => {
		const r = perRoundRatio(rpsOf(a), rpsOf(b));
		const r3 = (n: number) => Math.round(n * 1000) / 1000;
		return r
			? { ratio: r3(r.median), range: [r3(r.min), r3(r.max)] as [number, number] }
			: { ratio: 0, range: [0, 0] as [number, number] };
	};
	const ratios: FeatureRatio[] = [
		{
			what: "audit on / audit off (plain)",
			...ratio(["audit on", plainChat], ["audit off", plainChat]),
			target: ">= 0.95",
		},
		{
			what: "virtual key + limits / static key (plain)",
			...ratio(["virtual key + limits", plainChat], ["audit on", plainChat]),
			target: ">= 0.95",
		},
		{
			what: "tracing on (100%) / tracing off (plain)",
			...ratio(["tracing on", plainChat], ["audit on", plainChat]),
			target: ">= 0.90",
		},
		{
			what: "tracing on (100%) / tracing off (stream)",
			...ratio(["tracing on", streamedChat], ["audit on", streamedChat]),
			target: ">= 0.90",
		},
		{
			what: "3 accounts / 1 account (plain)",
			...ratio(["3 accounts", plainChat], ["audit on", plainChat]),
			target: ">= 0.95",
		},
		{
			what: "body logging on / off (plain)",
			...ratio(["body logging on", plainChat], ["audit on", plainChat]),
			target: "measured",
		},
		{
			what: "body logging on / off (stream)",
			...ratio(["body logging on", streamedChat], ["audit on", streamedChat]),
			target: "measured",
		},
		{
			what: "Anthropic translation / OpenAI pass-through (stream)",
			...ratio(["audit on", claudeStream], ["audit on", streamedChat]),
			target: "measured",
		},
	].filter((r) => r.ratio > 0);
	return { rows, ratios };
}

export function formatFeatures(rows: FeatureRow[], ratios: FeatureRatio[]): string {
	const out = [
		"variant               scenario                            req/s   p50 ms   p99 ms  errors  audit rows/s",
	];
	for (const r of rows) {
		out.push(
			`${r.variant.padEnd(22)}${r.scenario.padEnd(34)}${String(r.rps).padStart(7)}${r.p50.toFixed(2).padStart(9)}${r.p99.toFixed(2).padStart(9)}${String(r.errors).padStart(8)}${(r.auditRowsPerSec === undefined ? "" : String(r.auditRowsPerSec)).padStart(14)}`,
		);
	}
	out.push("", "feature cost (throughput ratios):");
	for (const r of ratios)
		out.push(
			`  ${r.what.padEnd(56)} x${r.ratio.toFixed(3)} (rounds x${r.range[0].toFixed(2)}–x${r.range[1].toFixed(2)})   target ${r.target}`,
		);
	return out.join("\n");
}
