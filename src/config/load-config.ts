import { availableParallelism } from "node:os";
import { PublicKeyFormatError, parsePublicKey } from "../crypto/ed25519.ts";
import { parseAlertsPolicy, parseAlertWebhooks } from "./alerts-config.ts";
import { ConfigError } from "./config-error.ts";
import { parseLoggingConfig } from "./logging-config.ts";
import {
	MAX_GROUP_TARGETS,
	MODEL_GROUP_NAME,
	MODEL_GROUP_STRATEGIES,
	type ModelGroupConfig,
	type ModelGroupStrategy,
	modelGroupProblem,
} from "./model-group.ts";
import { type ModelPrice, ModelPriceSchema } from "./model-price.ts";
import { PRESET_NAMES, PROVIDER_PRESETS } from "./presets.ts";
import { withSeedEnvAliases } from "./seed-env-aliases.ts";
import { parseTelemetry } from "./telemetry-config.ts";
import type { AccountConfig, GatewayConfig, GatewayEnv, ProviderConfig } from "./types.ts";
import { ON_CLIENT_ABORT, type OnClientAbort, ROUTING_STRATEGIES, type RoutingStrategy } from "./types.ts";
import {
	expectObj,
	int,
	num,
	type Obj,
	optStr,
	rejectUnknown,
	resolveSecret,
	str,
	strList,
	tableList,
} from "./validate.ts";

/** The price fields of `[[prices]]`: the one price shape's (config/model-price.ts). */
const PRICE_FIELDS = Object.keys(ModelPriceSchema.properties) as (keyof ModelPrice)[];
const PRICE_REQUIRED = new Set<string>(ModelPriceSchema.required);

type Env = Record<string, string | undefined>;

const GATEWAY_ENVS: readonly GatewayEnv[] = ["dev", "staging", "production"];

export const DEFAULT_ADMIN_TOKENS = new Set(["admin", "changeme", "change-me", "secret", "password"]);

const TOP_KEYS = [
	"env",
	"log_level",
	"server",
	"database",
	"redis",
	"auth",
	"admin",
	"routing",
	"limits",
	"audit",
	"metrics",
	"usage",
	"telemetry",
	"logging",
	"alerts",
	"alerts_policy",
	"providers",
	"aliases",
	"model_groups",
	"prices",
];

function strategy(v: string | undefined, path: string): RoutingStrategy | undefined {
	if (v === undefined) return undefined;
	if (!(ROUTING_STRATEGIES as readonly string[]).includes(v)) {
		throw new ConfigError(path, `unknown strategy "${v}" (one of ${ROUTING_STRATEGIES.join(", ")})`);
	}
	return v as RoutingStrategy;
}

function parseAccount(a: Obj, path: string, env: Env): AccountConfig {
	rejectUnknown(a, ["name", "api_key", "base_url", "weight", "max_concurrency", "models"], path);
	return {
		name: str(a, "name", `${path}.`),
		api_key: resolveSecret(optStr(a, "api_key", `${path}.`), `${path}.api_key`, env) ?? "",
		base_url: optStr(a, "base_url", `${path}.`),
		weight: int(a, "weight", `${path}.`, 1, 0, 1_000_000),
		max_concurrency: int(a, "max_concurrency", `${path}.`, 0, 0, 1_000_000),
		models: a.models === undefined ? undefined : strList(a, "models", `${path}.`),
	};
}

function parseProvider(p: Obj, i: number, env: Env): ProviderConfig {
	const path = `providers[${i}]`;
	rejectUnknown(
		p,
		["name", "type", "base_url", "models", "strategy", "headers", "api_version", "api_key", "accounts"],
		path,
	);
	const type = str(p, "type", `${path}.`, "openai");
	const preset = PROVIDER_PRESETS[type];
	if (!preset)
		throw new ConfigError(`${path}.type`, `unknown provider type "${type}" (one of ${PRESET_NAMES.join(", ")})`);
	const name = str(p, "name", `${path}.`, type);
	if (!/^[a-zA-Z0-9_.-]+$/.test(name)) throw new ConfigError(`${path}.name`, "must match [a-zA-Z0-9_.-]+");
	const baseUrl = (optStr(p, "base_url", `${path}.`) ?? preset.baseUrl).replace(/\/+$/, "");
	if (!/^https?:\/\//.test(baseUrl)) throw new ConfigError(`${path}.base_url`, "must be an http(s) URL");
	const headers = expectObj(p.headers, `${path}.headers`);
	for (const [k, v] of Object.entries(headers)) {
		if (typeof v !== "string") throw new ConfigError(`${path}.headers.${k}`, "must be a string");
	}
	const accounts = tableList(p, "accounts", `${path}.`).map((a, j) => parseAccount(a, `${path}.accounts[${j}]`, env));
	// shorthand: a provider-level api_key is one account named "default"
	const shorthandKey = resolveSecret(optStr(p, "api_key", `${path}.`), `${path}.api_key`, env);
	if (shorthandKey !== undefined) {
		accounts.unshift({ name: "default", api_key: shorthandKey, weight: 1, max_concurrency: 0 });
	}
	const seen = new Set<string>();
	for (const [j, a] of accounts.entries()) {
		if (seen.has(a.name)) throw new ConfigError(`${path}.accounts[${j}].name`, `duplicate account "${a.name}"`);
		seen.add(a.name);
	}
	return {
		name,
		type,
		base_url: baseUrl,
		models: strList(p, "models", `${path}.`),
		strategy: strategy(optStr(p, "strategy", `${path}.`), `${path}.strategy`),
		headers: headers as Record<string, string>,
		api_version: optStr(p, "api_version", `${path}.`),
		accounts,
	};
}

function parseModelGroup(g: Obj, i: number): ModelGroupConfig {
	const path = `model_groups[${i}]`;
	rejectUnknown(g, ["name", "targets", "strategy", "weights"], path);
	const name = str(g, "name", `${path}.`);
	if (!MODEL_GROUP_NAME.test(name)) {
		throw new ConfigError(`${path}.name`, "must be 1 to 128 letters, digits, '_', '.', ':' or '-' (no '/')");
	}
	const targets = strList(g, "targets", `${path}.`);
	if (targets.length === 0 || targets.length > MAX_GROUP_TARGETS || targets.some((t) => t === "")) {
		throw new ConfigError(`${path}.targets`, `must list 1 to ${MAX_GROUP_TARGETS} non-empty model names`);
	}
	const strategy = str(g, "strategy", `${path}.`, "ordered");
	if (!(MODEL_GROUP_STRATEGIES as readonly string[]).includes(strategy)) {
		throw new ConfigError(`${path}.strategy`, `must be one of ${MODEL_GROUP_STRATEGIES.join(", ")}`);
	}
	const weights = g.weights === undefined ? null : g.weights;
	if (weights !== null && (!Array.isArray(weights) || weights.some((w) => !Number.isInteger(w) || w < 0))) {
		throw new ConfigError(`${path}.weights`, "must be a list of integers >= 0");
	}
	const group = { name, targets, strategy: strategy as ModelGroupStrategy, weights: weights as number[] | null };
	const problem = modelGroupProblem(group);
	if (problem) throw new ConfigError(`${path}.${problem.field}`, problem.message);
	return group;
}

function fraction(o: Obj, key: string, path: string, fallback: number): number {
	const v = num(o, key, path, fallback);
	if (v <= 0 || v > 1) throw new ConfigError(`${path}${key}`, "must be above 0 and at most 1");
	return v;
}

/**
 * HTTP workers when the configuration leaves it to us: one per core, but at most two with the
 * embedded database, where every query runs on the supervisor's one PGlite backend anyway and
 * each worker costs about 18 MB of resident memory (the quick start stays under 300 MB).
 */
export function defaultHttpWorkers(embedded: boolean, cores: number): number {
	return embedded ? Math.min(EMBEDDED_MAX_DEFAULT_WORKERS, cores) : cores;
}

const EMBEDDED_MAX_DEFAULT_WORKERS = 2;

const list = (v: string | undefined): string[] =>
	(v ?? "")
		.split(",")
		.map((s) => s.trim())
		.filter(Boolean);

function envBool(env: Env, name: string): boolean | undefined {
	const v = env[name]?.trim().toLowerCase();
	if (v === undefined || v === "") return undefined;
	if (v === "true" || v === "1") return true;
	if (v === "false" || v === "0") return false;
	throw new ConfigError(name, `must be true or false, got "${env[name]}"`);
}

function envInt(env: Env, name: string): number | undefined {
	const v = env[name];
	if (v === undefined || v === "") return undefined;
	const n = Number(v);
	if (!Number.isInteger(n) || n < 0) throw new ConfigError(name, `must be a whole number >= 0, got "${v}"`);
	return n;
}

/** Every admin public key must read as an Ed25519 key: a typo is a start-up error, not a silent lock-out. */
function adminPublicKeys(keys: string[]): string[] {
	for (const [i, k] of keys.entries()) {
		try {
			parsePublicKey(k);
		} catch (e) {
			if (e instanceof PublicKeyFormatError) throw new ConfigError(`admin.public_keys[${i}]`, e.message);
			throw e;
		}
	}
	return keys;
}

/**
 * Builds the validated configuration from a TOML document (already parsed, or absent) and the
 * environment. The env quick-start variables fill or override the file, as DESIGN.md says.
 */
export function buildConfig(raw: unknown, givenEnv: Env): GatewayConfig {
	const env = withSeedEnvAliases(givenEnv);
	const root = expectObj(raw, "(root)");
	rejectUnknown(root, TOP_KEYS, "");
	const server = expectObj(root.server, "server");
	rejectUnknown(
		server,
		[
			"port",
			"host",
			"cors_origins",
			"http_workers",
			"max_body_bytes",
			"drain_timeout_ms",
			"keepalive_interval_ms",
			"body_timeout_ms",
			"health_route",
			"trust_proxy",
		],
		"server",
	);
	const database = expectObj(root.database, "database");
	rejectUnknown(database, ["url", "data_dir", "retention_days"], "database");
	const redis = expectObj(root.redis, "redis");
	rejectUnknown(redis, ["url", "key_prefix", "lease_fraction", "deadline_ms", "idle_ms", "holder_ttl_ms"], "redis");
	const auth = expectObj(root.auth, "auth");
	rejectUnknown(
		auth,
		["mode", "static_keys", "admin_token", "introspection_url", "encryption_key", "static_keys_rpm"],
		"auth",
	);
	const admin = expectObj(root.admin, "admin");
	rejectUnknown(
		admin,
		["token_enabled", "public_keys", "session_ttl_ms", "challenge_ttl_ms", "login_attempts_per_minute"],
		"admin",
	);
	if (admin.token_enabled !== undefined && typeof admin.token_enabled !== "boolean") {
		throw new ConfigError("admin.token_enabled", "must be true or false");
	}
	const routing = expectObj(root.routing, "routing");
	rejectUnknown(
		routing,
		[
			"strategy",
			"max_account_switches",
			"first_byte_timeout_ms",
			"request_timeout_ms",
			"max_retry_after_ms",
			"max_upstream_body_bytes",
			"stream_idle_timeout_ms",
		],
		"routing",
	);
	const limits = expectObj(root.limits, "limits");
	rejectUnknown(limits, ["default_max_output_tokens", "max_output_ceiling", "refuse_unpriced_with_budget"], "limits");
	if (limits.refuse_unpriced_with_budget !== undefined && typeof limits.refuse_unpriced_with_budget !== "boolean") {
		throw new ConfigError("limits.refuse_unpriced_with_budget", "must be true or false");
	}
	const audit = expectObj(root.audit, "audit");
	rejectUnknown(audit, ["enabled", "batch_size", "flush_interval_ms", "max_queue"], "audit");
	const metrics = expectObj(root.metrics, "metrics");
	rejectUnknown(metrics, ["token"], "metrics");
	for (const [table, key, path] of [
		[audit, "enabled", "audit.enabled"],
		[server, "health_route", "server.health_route"],
		[server, "trust_proxy", "server.trust_proxy"],
	] as const) {
		if (table[key] !== undefined && typeof table[key] !== "boolean")
			throw new ConfigError(path, "must be true or false");
	}
	// logs are pino JSON lines; the seeds' LOG_FORMAT is accepted for its one value we share
	if (env.LOG_FORMAT !== undefined && env.LOG_FORMAT.toLowerCase() !== "json") {
		throw new ConfigError("LOG_FORMAT", `logs are JSON lines; only "json" is supported, got "${env.LOG_FORMAT}"`);
	}

	const usage = expectObj(root.usage, "usage");
	rejectUnknown(usage, ["on_client_abort"], "usage");
	const onClientAbort = env.GATEWAY_ON_CLIENT_ABORT ?? str(usage, "on_client_abort", "usage.", "cancel");
	if (!(ON_CLIENT_ABORT as readonly string[]).includes(onClientAbort)) {
		throw new ConfigError(
			"usage.on_client_abort",
			`must be one of ${ON_CLIENT_ABORT.join(", ")}, got "${onClientAbort}"`,
		);
	}

	const gatewayEnv = (env.GATEWAY_ENV ?? str(root, "env", "", "dev")) as GatewayEnv;
	if (!GATEWAY_ENVS.includes(gatewayEnv)) {
		throw new ConfigError("env", `must be one of ${GATEWAY_ENVS.join(", ")}, got "${gatewayEnv}"`);
	}

	const providers = tableList(root, "providers", "").map((p, i) => parseProvider(p, i, env));
	if (env.OPENAI_API_KEY !== undefined || env.OPENAI_BASE_URL !== undefined) {
		const existing = providers.find((p) => p.name === "openai");
		const models = list(env.OPENAI_MODELS);
		if (existing) {
			if (env.OPENAI_BASE_URL) existing.base_url = env.OPENAI_BASE_URL.replace(/\/+$/, "");
			if (models.length) existing.models = models;
			if (env.OPENAI_API_KEY && existing.accounts.length === 0) {
				existing.accounts.push({ name: "default", api_key: env.OPENAI_API_KEY, weight: 1, max_concurrency: 0 });
			}
		} else {
			providers.push({
				name: "openai",
				type: "openai",
				base_url: (env.OPENAI_BASE_URL ?? PROVIDER_PRESETS.openai.baseUrl).replace(/\/+$/, ""),
				models: models.length ? models : ["gpt-4o", "gpt-4o-mini"],
				headers: {},
				accounts: [{ name: "default", api_key: env.OPENAI_API_KEY ?? "", weight: 1, max_concurrency: 0 }],
			});
		}
	}
	const names = new Set<string>();
	for (const [i, p] of providers.entries()) {
		if (names.has(p.name)) throw new ConfigError(`providers[${i}].name`, `duplicate provider "${p.name}"`);
		names.add(p.name);
	}

	const aliases = tableList(root, "aliases", "").map((a, i) => {
		rejectUnknown(a, ["from", "to"], `aliases[${i}]`);
		return { from: str(a, "from", `aliases[${i}].`), to: str(a, "to", `aliases[${i}].`) };
	});
	const modelGroups = tableList(root, "model_groups", "").map(parseModelGroup);
	const groupNames = new Set<string>();
	for (const [i, g] of modelGroups.entries()) {
		if (groupNames.has(g.name)) throw new ConfigError(`model_groups[${i}].name`, `duplicate model group "${g.name}"`);
		groupNames.add(g.name);
	}
	const prices = tableList(root, "prices", "").map((p, i) => {
		const path = `prices[${i}].`;
		rejectUnknown(p, ["model", ...PRICE_FIELDS], `prices[${i}]`);
		const price = Object.fromEntries(
			PRICE_FIELDS.map((f) => [f, p[f] === undefined && !PRICE_REQUIRED.has(f) ? null : num(p, f, path)]),
		) as ModelPrice;
		return { model: str(p, "model", path), ...price };
	});

	const staticKeys = [...strList(auth, "static_keys", "auth."), ...list(env.GATEWAY_API_KEYS)];
	const mode = env.GATEWAY_AUTH_MODE ?? str(auth, "mode", "auth.", "local");
	if (mode !== "local" && mode !== "remote_introspection") {
		throw new ConfigError("auth.mode", `must be "local" or "remote_introspection", got "${mode}"`);
	}
	const introspectionUrl = env.GATEWAY_INTROSPECTION_URL || optStr(auth, "introspection_url", "auth.");
	if (mode === "remote_introspection" && !introspectionUrl) {
		throw new ConfigError("auth.introspection_url", "is required when auth.mode is remote_introspection");
	}
	const workers = int(server, "http_workers", "server.", 0, 0, 256);
	const databaseUrl = env.DATABASE_URL || resolveSecret(optStr(database, "url", "database."), "database.url", env);
	const envPort = env.PORT === undefined ? undefined : Number(env.PORT);
	if (envPort !== undefined && (!Number.isInteger(envPort) || envPort < 0 || envPort > 65535)) {
		throw new ConfigError("PORT", "must be an integer port");
	}

	const config: GatewayConfig = {
		env: gatewayEnv,
		log_level: env.LOG_LEVEL ?? str(root, "log_level", "", "info"),
		server: {
			port: envPort ?? int(server, "port", "server.", 8080, 0, 65535),
			host: str(server, "host", "server.", "0.0.0.0"),
			cors_origins:
				env.GATEWAY_CORS_ORIGINS !== undefined
					? list(env.GATEWAY_CORS_ORIGINS)
					: strList(server, "cors_origins", "server.", gatewayEnv === "dev" ? ["*"] : []),
			http_workers: env.GATEWAY_HTTP_WORKERS
				? Number(env.GATEWAY_HTTP_WORKERS)
				: workers === 0
					? defaultHttpWorkers(!databaseUrl, availableParallelism())
					: workers,
			max_body_bytes: int(server, "max_body_bytes", "server.", 32 * 1024 * 1024, 1024),
			drain_timeout_ms: int(server, "drain_timeout_ms", "server.", 30_000, 0),
			keepalive_interval_ms: int(server, "keepalive_interval_ms", "server.", 15_000, 100),
			body_timeout_ms: int(server, "body_timeout_ms", "server.", 30_000, 10, 3_600_000),
			health_route: envBool(env, "GATEWAY_HEALTH_ROUTE") ?? server.health_route !== false,
			trust_proxy: envBool(env, "GATEWAY_TRUST_PROXY") ?? server.trust_proxy === true,
		},
		database: {
			url: databaseUrl,
			data_dir: env.GATEWAY_DATA_DIR ?? str(database, "data_dir", "database.", "./data"),
			retention_days: int(database, "retention_days", "database.", 0, 0, 36_500),
		},
		redis: {
			url: env.REDIS_URL || resolveSecret(optStr(redis, "url", "redis."), "redis.url", env),
			key_prefix: str(redis, "key_prefix", "redis.", "ix:"),
			lease_fraction: fraction(redis, "lease_fraction", "redis.", 0.05),
			deadline_ms: int(redis, "deadline_ms", "redis.", 250, 1, 10_000),
			idle_ms: int(redis, "idle_ms", "redis.", 1_000, 10, 600_000),
			holder_ttl_ms: int(redis, "holder_ttl_ms", "redis.", 5_000, 300, 600_000),
		},
		auth: {
			mode,
			static_keys: staticKeys,
			admin_token:
				env.GATEWAY_ADMIN_TOKEN ?? resolveSecret(optStr(auth, "admin_token", "auth."), "auth.admin_token", env),
			introspection_url: introspectionUrl,
			encryption_key:
				env.GATEWAY_ENCRYPTION_KEY ??
				resolveSecret(optStr(auth, "encryption_key", "auth."), "auth.encryption_key", env),
			static_keys_rpm:
				envInt(env, "GATEWAY_STATIC_KEYS_RPM") ?? int(auth, "static_keys_rpm", "auth.", 0, 0, 10_000_000),
		},
		admin: {
			token_enabled: envBool(env, "GATEWAY_ADMIN_TOKEN_ENABLED") ?? admin.token_enabled !== false,
			public_keys: adminPublicKeys(
				env.GATEWAY_ADMIN_PUBLIC_KEYS !== undefined
					? list(env.GATEWAY_ADMIN_PUBLIC_KEYS)
					: strList(admin, "public_keys", "admin."),
			),
			session_ttl_ms: int(admin, "session_ttl_ms", "admin.", 12 * 3_600_000, 1_000, 30 * 86_400_000),
			challenge_ttl_ms: int(admin, "challenge_ttl_ms", "admin.", 60_000, 1, 600_000),
			login_attempts_per_minute: int(admin, "login_attempts_per_minute", "admin.", 10, 1, 10_000),
		},
		routing: {
			strategy: strategy(optStr(routing, "strategy", "routing."), "routing.strategy") ?? "weighted",
			max_account_switches: int(routing, "max_account_switches", "routing.", 3, 0, 20),
			first_byte_timeout_ms: int(routing, "first_byte_timeout_ms", "routing.", 30_000, 1),
			request_timeout_ms: int(routing, "request_timeout_ms", "routing.", 600_000, 1),
			max_retry_after_ms: int(routing, "max_retry_after_ms", "routing.", 60_000, 0, 86_400_000),
			max_upstream_body_bytes: int(routing, "max_upstream_body_bytes", "routing.", 32 * 1024 * 1024, 1024),
			stream_idle_timeout_ms: int(routing, "stream_idle_timeout_ms", "routing.", 120_000, 10),
		},
		limits: {
			default_max_output_tokens: int(limits, "default_max_output_tokens", "limits.", 4_096, 1, 10_000_000),
			max_output_ceiling: int(limits, "max_output_ceiling", "limits.", 32_768, 1, 10_000_000),
			refuse_unpriced_with_budget: limits.refuse_unpriced_with_budget !== false,
		},
		audit: {
			enabled: env.GATEWAY_AUDIT === "off" ? false : audit.enabled !== false,
			batch_size: int(audit, "batch_size", "audit.", 500, 1, 100_000),
			flush_interval_ms: int(audit, "flush_interval_ms", "audit.", 50, 1, 60_000),
			max_queue: int(audit, "max_queue", "audit.", 50_000, 100),
		},
		metrics: {
			token: env.GATEWAY_METRICS_TOKEN || resolveSecret(optStr(metrics, "token", "metrics."), "metrics.token", env),
		},
		usage: { on_client_abort: onClientAbort as OnClientAbort },
		telemetry: parseTelemetry(root.telemetry, env),
		logging: parseLoggingConfig(root.logging, env),
		alerts: parseAlertWebhooks(root, env),
		alerts_policy: parseAlertsPolicy(root.alerts_policy),
		providers,
		aliases,
		model_groups: modelGroups,
		prices,
	};
	if (config.env !== "dev") checkProduction(config);
	return config;
}

/**
 * Production (and staging, which shares its rules) refuses what is only safe on a developer's
 * machine. Without an admin token the admin API is simply off, which is safe; a token that is
 * set must not be guessable.
 */
function checkProduction(c: GatewayConfig): void {
	const env = c.env;
	if (c.server.cors_origins.length === 0 || c.server.cors_origins.includes("*")) {
		throw new ConfigError("server.cors_origins", `${env} needs an explicit CORS allowlist (no "*")`);
	}
	const admin = c.auth.admin_token;
	if (admin !== undefined && (admin.length < 16 || DEFAULT_ADMIN_TOKENS.has(admin.toLowerCase()))) {
		throw new ConfigError("auth.admin_token", `${env} needs a non-default admin token of 16+ characters (or none)`);
	}
	if (!c.auth.encryption_key) {
		throw new ConfigError("auth.encryption_key", `${env} needs GATEWAY_ENCRYPTION_KEY for provider secrets`);
	}
	if (!c.audit.enabled) throw new ConfigError("audit.enabled", `usage recording cannot be turned off in ${env}`);
	if (c.auth.static_keys.length > 0) {
		throw new ConfigError("auth.static_keys", `static client keys (GATEWAY_API_KEYS) are refused in ${env}`);
	}
}

/** Reads GATEWAY_CONFIG (if set) and the environment. */
export async function loadConfig(env: Env = process.env): Promise<GatewayConfig> {
	let raw: unknown = {};
	const path = env.GATEWAY_CONFIG;
	if (path) {
		const file = Bun.file(path);
		if (!(await file.exists())) throw new ConfigError("GATEWAY_CONFIG", `file not found: ${path}`);
		try {
			raw = Bun.TOML.parse(await file.text());
		} catch (e) {
			throw new ConfigError("GATEWAY_CONFIG", `invalid TOML in ${path}: ${(e as Error).message}`);
		}
	}
	return buildConfig(raw, env);
}
