import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../../src/config/config-error.ts";
import { buildConfig, defaultHttpWorkers, loadConfig } from "../../src/config/load-config.ts";
import { int, num, resolveSecret, strList, tableList } from "../../src/config/validate.ts";

/** The ConfigError thrown by `fn`; fails the test when nothing (or something else) is thrown. */
function configError(fn: () => unknown): ConfigError {
	try {
		fn();
	} catch (e) {
		expect(e).toBeInstanceOf(ConfigError);
		return e as ConfigError;
	}
	throw new Error("expected a ConfigError");
}

async function configErrorAsync(p: Promise<unknown>): Promise<ConfigError> {
	try {
		await p;
	} catch (e) {
		expect(e).toBeInstanceOf(ConfigError);
		return e as ConfigError;
	}
	throw new Error("expected a ConfigError");
}

const dir = mkdtempSync(join(tmpdir(), "interchange-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let fileNo = 0;
function tomlFile(text: string): string {
	const path = join(dir, `config-${fileNo++}.toml`);
	writeFileSync(path, text);
	return path;
}

const PROD_OK = {
	env: "production",
	server: { cors_origins: ["https://app.example.com"] },
	auth: {
		admin_token: "a-long-admin-token-123456",
		encryption_key: "k".repeat(32),
	},
};

describe("buildConfig defaults", () => {
	test("an empty document and environment give the documented defaults", () => {
		const c = buildConfig({}, {});
		expect(c.env).toBe("dev");
		expect(c.log_level).toBe("info");
		expect(c.server.port).toBe(8080);
		expect(c.server.host).toBe("0.0.0.0");
		expect(c.server.cors_origins).toEqual(["*"]);
		expect(c.server.http_workers).toBeGreaterThanOrEqual(1);
		expect(c.server.max_body_bytes).toBe(32 * 1024 * 1024);
		expect(c.server.drain_timeout_ms).toBe(30_000);
		expect(c.server.keepalive_interval_ms).toBe(15_000);
		expect(c.server.body_timeout_ms).toBe(30_000);
		expect(c.metrics.token).toBeUndefined();
		expect(c.database.url).toBeUndefined();
		expect(c.database.data_dir).toBe("./data");
		expect(c.auth.mode).toBe("local");
		expect(c.auth.static_keys).toEqual([]);
		expect(c.routing).toEqual({
			strategy: "weighted",
			max_account_switches: 3,
			first_byte_timeout_ms: 30_000,
			request_timeout_ms: 600_000,
			max_retry_after_ms: 60_000,
			max_upstream_body_bytes: 32 * 1024 * 1024,
			stream_idle_timeout_ms: 120_000,
		});
		expect(c.audit).toEqual({
			enabled: true,
			batch_size: 500,
			flush_interval_ms: 50,
			max_queue: 50_000,
		});
		expect(c.usage).toEqual({ on_client_abort: "cancel" });
		expect(c.providers).toEqual([]);
		expect(c.aliases).toEqual([]);
		expect(c.prices).toEqual([]);
	});

	test("usage.on_client_abort: cancel or finish, from the file or GATEWAY_ON_CLIENT_ABORT; anything else is an error", () => {
		expect(buildConfig({ usage: { on_client_abort: "finish" } }, {}).usage.on_client_abort).toBe("finish");
		expect(buildConfig({}, { GATEWAY_ON_CLIENT_ABORT: "finish" }).usage.on_client_abort).toBe("finish");
		expect(configError(() => buildConfig({ usage: { on_client_abort: "ignore" } }, {})).message).toContain(
			"usage.on_client_abort",
		);
		expect(configError(() => buildConfig({ usage: { on_abort: "finish" } }, {})).message).toContain("usage.on_abort");
	});

	test("HTTP workers default to one per core, at most two with the embedded database", () => {
		expect(defaultHttpWorkers(false, 16)).toBe(16);
		expect(defaultHttpWorkers(true, 16)).toBe(2);
		expect(defaultHttpWorkers(true, 1)).toBe(1);
		expect(buildConfig({}, {}).server.http_workers).toBe(defaultHttpWorkers(true, availableParallelism()));
		expect(buildConfig({}, { DATABASE_URL: "postgres://db/x" }).server.http_workers).toBe(availableParallelism());
		expect(buildConfig({ server: { http_workers: 6 } }, {}).server.http_workers).toBe(6);
		expect(buildConfig({}, { GATEWAY_HTTP_WORKERS: "5" }).server.http_workers).toBe(5);
	});

	test("an absent document is the same as an empty one", () => {
		expect(buildConfig(undefined, {}).server.port).toBe(8080);
	});

	test("a document that is not a table is rejected", () => {
		expect(configError(() => buildConfig([1, 2], {})).path).toBe("(root)");
	});
});

describe("environment quick start", () => {
	test("OPENAI_API_KEY alone makes an openai provider with default models", () => {
		const c = buildConfig({}, { OPENAI_API_KEY: "sk-test" });
		expect(c.providers).toHaveLength(1);
		const p = c.providers[0];
		expect(p.name).toBe("openai");
		expect(p.type).toBe("openai");
		expect(p.base_url).toBe("https://api.openai.com/v1");
		expect(p.models).toEqual(["gpt-4o", "gpt-4o-mini"]);
		expect(p.accounts).toEqual([{ name: "default", api_key: "sk-test", weight: 1, max_concurrency: 0 }]);
	});

	test("OPENAI_BASE_URL (trailing slash trimmed) and OPENAI_MODELS (comma list, trimmed)", () => {
		const c = buildConfig(
			{},
			{
				OPENAI_API_KEY: "sk-x",
				OPENAI_BASE_URL: "http://127.0.0.1:9999/v1/",
				OPENAI_MODELS: " a , b,,c ",
			},
		);
		expect(c.providers[0].base_url).toBe("http://127.0.0.1:9999/v1");
		expect(c.providers[0].models).toEqual(["a", "b", "c"]);
	});

	test("OPENAI_MODELS without a key or base URL does nothing", () => {
		expect(buildConfig({}, { OPENAI_MODELS: "a" }).providers).toEqual([]);
	});

	test("the env overrides an openai provider from the file instead of adding a second", () => {
		const c = buildConfig(
			{ providers: [{ name: "openai", type: "openai", models: ["old"] }] },
			{
				OPENAI_API_KEY: "sk-env",
				OPENAI_BASE_URL: "http://x.test/v1",
				OPENAI_MODELS: "new",
			},
		);
		expect(c.providers).toHaveLength(1);
		expect(c.providers[0].base_url).toBe("http://x.test/v1");
		expect(c.providers[0].models).toEqual(["new"]);
		expect(c.providers[0].accounts.map((a) => a.api_key)).toEqual(["sk-env"]);
	});

	test("GATEWAY_API_KEYS adds static keys to the file's", () => {
		const c = buildConfig({ auth: { static_keys: ["k1"] } }, { GATEWAY_API_KEYS: "k2, k3" });
		expect(c.auth.static_keys).toEqual(["k1", "k2", "k3"]);
	});

	test("PORT overrides server.port; a bad PORT is an error", () => {
		expect(buildConfig({ server: { port: 1234 } }, { PORT: "9090" }).server.port).toBe(9090);
		expect(configError(() => buildConfig({}, { PORT: "http" })).path).toBe("PORT");
		expect(configError(() => buildConfig({}, { PORT: "70000" })).path).toBe("PORT");
	});

	test("DATABASE_URL and GATEWAY_DATA_DIR override the file", () => {
		const c = buildConfig(
			{ database: { url: "postgres://file/db", data_dir: "/file" } },
			{ DATABASE_URL: "postgres://env/db", GATEWAY_DATA_DIR: "/env" },
		);
		expect(c.database.url).toBe("postgres://env/db");
		expect(c.database.data_dir).toBe("/env");
		const fromFile = buildConfig({ database: { url: "postgres://file/db", data_dir: "/file" } }, {});
		expect(fromFile.database.url).toBe("postgres://file/db");
		expect(fromFile.database.data_dir).toBe("/file");
	});
});

describe("loadConfig with a TOML file", () => {
	test("reads providers, accounts, aliases and prices", async () => {
		const path = tomlFile(`
log_level = "debug"

[server]
port = 7000

[routing]
strategy = "least_busy"

[[providers]]
name = "main"
type = "openai"
base_url = "http://127.0.0.1:1/v1/"
models = ["gpt-4o"]
strategy = "round_robin"
headers = { "x-extra" = "1" }

[[providers.accounts]]
name = "a1"
api_key = "sk-a1"
weight = 3

[[providers.accounts]]
name = "a2"
api_key = "env:A2_KEY"
base_url = "http://127.0.0.1:2/v1"
max_concurrency = 5
models = ["gpt-4o"]

[[providers]]
type = "anthropic"
api_key = "sk-ant"
models = ["claude-x"]

[[aliases]]
from = "fast"
to = "main/gpt-4o"

[[prices]]
model = "gpt-4o"
input = 2.5
output = 10
cached_input = 1.25
`);
		const c = await loadConfig({ GATEWAY_CONFIG: path, A2_KEY: "sk-a2" });
		expect(c.log_level).toBe("debug");
		expect(c.server.port).toBe(7000);
		expect(c.routing.strategy).toBe("least_busy");
		expect(c.providers).toHaveLength(2);
		const [main, ant] = c.providers;
		expect(main.name).toBe("main");
		expect(main.base_url).toBe("http://127.0.0.1:1/v1");
		expect(main.strategy).toBe("round_robin");
		expect(main.headers).toEqual({ "x-extra": "1" });
		expect(main.accounts).toEqual([
			{
				name: "a1",
				api_key: "sk-a1",
				base_url: undefined,
				weight: 3,
				max_concurrency: 0,
				models: undefined,
			},
			{
				name: "a2",
				api_key: "sk-a2",
				base_url: "http://127.0.0.1:2/v1",
				weight: 1,
				max_concurrency: 5,
				models: ["gpt-4o"],
			},
		]);
		// name defaults to the type; provider-level api_key is an account named "default"
		expect(ant.name).toBe("anthropic");
		expect(ant.base_url).toBe("https://api.anthropic.com/v1");
		expect(ant.accounts.map((a) => [a.name, a.api_key])).toEqual([["default", "sk-ant"]]);
		expect(c.aliases).toEqual([{ from: "fast", to: "main/gpt-4o" }]);
		expect(c.prices).toEqual([
			{
				model: "gpt-4o",
				input: 2.5,
				output: 10,
				cached_input: 1.25,
				cache_write: null,
			},
		]);
	});

	test("no GATEWAY_CONFIG → env-only configuration", async () => {
		const c = await loadConfig({ OPENAI_API_KEY: "sk" });
		expect(c.providers.map((p) => p.name)).toEqual(["openai"]);
	});

	test("a missing file and invalid TOML are errors on GATEWAY_CONFIG", async () => {
		const missing = await configErrorAsync(loadConfig({ GATEWAY_CONFIG: join(dir, "nope.toml") }));
		expect(missing.path).toBe("GATEWAY_CONFIG");
		const bad = await configErrorAsync(loadConfig({ GATEWAY_CONFIG: tomlFile("[server\nport = ") }));
		expect(bad.path).toBe("GATEWAY_CONFIG");
		expect(bad.message).toContain("invalid TOML");
	});

	test("unknown keys in the file are rejected with their path", async () => {
		const path = tomlFile(`
[[providers]]
name = "p"
models = ["m"]
[[providers.accounts]]
name = "a"
[[providers.accounts]]
name = "b"
bar = 1
`);
		const e = await configErrorAsync(loadConfig({ GATEWAY_CONFIG: path }));
		expect(e.path).toBe("providers[0].accounts[1].bar");
	});
});

describe("secrets via env:NAME", () => {
	test("set → the variable's value", () => {
		const c = buildConfig(
			{
				database: { url: "env:DB" },
				auth: { admin_token: "env:ADMIN" },
				providers: [{ name: "p", api_key: "env:P_KEY", models: [] }],
			},
			{ DB: "postgres://secret", ADMIN: "adm", P_KEY: "sk-p" },
		);
		expect(c.database.url).toBe("postgres://secret");
		expect(c.auth.admin_token).toBe("adm");
		expect(c.providers[0].accounts[0].api_key).toBe("sk-p");
	});

	test("unset or empty → an error naming the key path and the variable", () => {
		const e1 = configError(() =>
			buildConfig(
				{
					providers: [
						{
							name: "p",
							accounts: [{ name: "a", api_key: "env:MISSING_KEY" }],
						},
					],
				},
				{},
			),
		);
		expect(e1.path).toBe("providers[0].accounts[0].api_key");
		expect(e1.message).toContain("MISSING_KEY");
		const e2 = configError(() => buildConfig({ auth: { encryption_key: "env:ENC" } }, { ENC: "" }));
		expect(e2.path).toBe("auth.encryption_key");
		const e3 = configError(() => buildConfig({ providers: [{ name: "p", api_key: "env:NOPE" }] }, {}));
		expect(e3.path).toBe("providers[0].api_key");
	});

	test("a value without the prefix is taken literally", () => {
		expect(resolveSecret("sk-plain", "x", {})).toBe("sk-plain");
		expect(resolveSecret(undefined, "x", {})).toBeUndefined();
	});
});

describe("validation errors name the key path", () => {
	test("unknown keys: top level, nested table, account", () => {
		expect(configError(() => buildConfig({ nonsense: 1 }, {})).path).toBe("nonsense");
		expect(configError(() => buildConfig({ server: { foo: 1 } }, {})).path).toBe("server.foo");
		expect(configError(() => buildConfig({ routing: { retries: 1 } }, {})).path).toBe("routing.retries");
		expect(
			configError(() =>
				buildConfig(
					{
						providers: [
							{
								name: "p",
								accounts: [{ name: "a" }, { name: "b", bar: true }],
							},
						],
					},
					{},
				),
			).path,
		).toBe("providers[0].accounts[1].bar");
		expect(configError(() => buildConfig({ providers: [{ name: "p", weight: 1 }] }, {})).path).toBe(
			"providers[0].weight",
		);
		expect(configError(() => buildConfig({ aliases: [{ from: "a", to: "b", x: 1 }] }, {})).path).toBe("aliases[0].x");
		expect(configError(() => buildConfig({ prices: [{ model: "m", input: 1, output: 1, y: 1 }] }, {})).path).toBe(
			"prices[0].y",
		);
	});

	test("bad types", () => {
		expect(configError(() => buildConfig({ server: { port: "80" } }, {})).path).toBe("server.port");
		expect(configError(() => buildConfig({ server: { port: 1.5 } }, {})).path).toBe("server.port");
		expect(configError(() => buildConfig({ server: { port: 70_000 } }, {})).path).toBe("server.port");
		expect(configError(() => buildConfig({ server: "x" }, {})).path).toBe("server");
		expect(configError(() => buildConfig({ server: { cors_origins: "*" } }, {})).path).toBe("server.cors_origins");
		expect(configError(() => buildConfig({ providers: { name: "p" } }, {})).path).toBe("providers");
		expect(configError(() => buildConfig({ providers: ["p"] }, {})).path).toBe("providers[0]");
		expect(configError(() => buildConfig({ providers: [{ name: "p", models: [1] }] }, {})).path).toBe(
			"providers[0].models",
		);
		expect(configError(() => buildConfig({ providers: [{ name: "p", headers: { a: 1 } }] }, {})).path).toBe(
			"providers[0].headers.a",
		);
		expect(configError(() => buildConfig({ providers: [{ name: "p", accounts: [{}] }] }, {})).path).toBe(
			"providers[0].accounts[0].name",
		);
		expect(configError(() => buildConfig({ prices: [{ model: "m", input: -1, output: 1 }] }, {})).path).toBe(
			"prices[0].input",
		);
		expect(configError(() => buildConfig({ prices: [{ model: "m", input: 1 }] }, {})).path).toBe("prices[0].output");
		expect(configError(() => buildConfig({ env: "qa" }, {})).path).toBe("env");
		expect(configError(() => buildConfig({ auth: { mode: "ldap" } }, {})).path).toBe("auth.mode");
		expect(configError(() => buildConfig({ auth: { mode: "remote_introspection" } }, {})).path).toBe(
			"auth.introspection_url",
		);
		expect(configError(() => buildConfig({ providers: [{ name: "bad name" }] }, {})).path).toBe("providers[0].name");
		expect(configError(() => buildConfig({ providers: [{ name: "p", base_url: "ftp://x" }] }, {})).path).toBe(
			"providers[0].base_url",
		);
	});

	test("the validate.ts readers", () => {
		expect(int({}, "n", "s.", 7)).toBe(7);
		expect(configError(() => int({ n: 5 }, "n", "s.", 0, 10, 20)).path).toBe("s.n");
		expect(num({ n: 0 }, "n", "")).toBe(0);
		expect(configError(() => num({ n: Number.POSITIVE_INFINITY }, "n", "")).path).toBe("n");
		expect(strList({}, "l", "", ["d"])).toEqual(["d"]);
		expect(tableList({}, "t", "")).toEqual([]);
		const e = configError(() => int({ n: "3" }, "n", "a.b.", 0));
		expect(e.message).toBe("config: a.b.n: must be an integer");
	});

	test("unknown provider type", () => {
		const e = configError(() => buildConfig({ providers: [{ name: "p", type: "openia" }] }, {}));
		expect(e.path).toBe("providers[0].type");
		expect(e.message).toContain("openia");
	});

	test("unknown routing strategy is a startup error (global and per provider)", () => {
		const e = configError(() => buildConfig({ routing: { strategy: "fastest" } }, {}));
		expect(e.path).toBe("routing.strategy");
		expect(e.message).toContain("fastest");
		expect(configError(() => buildConfig({ providers: [{ name: "p", strategy: "best" }] }, {})).path).toBe(
			"providers[0].strategy",
		);
	});

	test("duplicate provider and account names", () => {
		const dupProvider = configError(() => buildConfig({ providers: [{ name: "p" }, { name: "p" }] }, {}));
		expect(dupProvider.path).toBe("providers[1].name");
		// two providers defaulting to the same name (their type)
		expect(configError(() => buildConfig({ providers: [{ type: "groq" }, { type: "groq" }] }, {})).path).toBe(
			"providers[1].name",
		);
		const dupAccount = configError(() =>
			buildConfig(
				{
					providers: [
						{
							name: "p",
							accounts: [{ name: "a" }, { name: "b" }, { name: "a" }],
						},
					],
				},
				{},
			),
		);
		expect(dupAccount.path).toBe("providers[0].accounts[2].name");
		// the api_key shorthand is an account named "default"
		expect(
			configError(() =>
				buildConfig(
					{
						providers: [{ name: "p", api_key: "k", accounts: [{ name: "default" }] }],
					},
					{},
				),
			).message,
		).toContain('duplicate account "default"');
	});
});

describe("production refusals", () => {
	test("a valid production config passes", () => {
		const c = buildConfig(PROD_OK, {});
		expect(c.env).toBe("production");
		expect(c.server.cors_origins).toEqual(["https://app.example.com"]);
	});

	test("GATEWAY_ENV=production with the secrets from the environment passes", () => {
		const c = buildConfig(
			{ server: { cors_origins: ["https://a.example"] } },
			{
				GATEWAY_ENV: "production",
				GATEWAY_ADMIN_TOKEN: "x".repeat(20),
				GATEWAY_ENCRYPTION_KEY: "y".repeat(32),
			},
		);
		expect(c.env).toBe("production");
		expect(c.auth.admin_token).toBe("x".repeat(20));
	});

	test("no CORS allowlist, or a wildcard", () => {
		const none = { ...PROD_OK, server: {} };
		expect(configError(() => buildConfig(none, {})).path).toBe("server.cors_origins");
		const star = {
			...PROD_OK,
			server: { cors_origins: ["https://a.example", "*"] },
		};
		expect(configError(() => buildConfig(star, {})).path).toBe("server.cors_origins");
	});

	test("short or default admin token; none at all leaves the admin API off", () => {
		for (const admin_token of ["short-token", "changeme", "CHANGEME"]) {
			const c = { ...PROD_OK, auth: { ...PROD_OK.auth, admin_token } };
			expect(configError(() => buildConfig(c, {})).path).toBe("auth.admin_token");
		}
		const none = buildConfig({ ...PROD_OK, auth: { encryption_key: PROD_OK.auth.encryption_key } }, {});
		expect(none.auth.admin_token).toBeUndefined();
	});

	test("staging follows production's rules", () => {
		expect(buildConfig({ ...PROD_OK, env: "staging" }, {}).env).toBe("staging");
		expect(configError(() => buildConfig({ ...PROD_OK, server: {} }, { GATEWAY_ENV: "staging" })).path).toBe(
			"server.cors_origins",
		);
		expect(configError(() => buildConfig(PROD_OK, { GATEWAY_ENV: "staging", GATEWAY_API_KEYS: "k" })).path).toBe(
			"auth.static_keys",
		);
		expect(configError(() => buildConfig({}, { GATEWAY_ENV: "qa" })).message).toContain("dev, staging, production");
	});

	test("missing encryption key", () => {
		const c = { ...PROD_OK, auth: { admin_token: PROD_OK.auth.admin_token } };
		expect(configError(() => buildConfig(c, {})).path).toBe("auth.encryption_key");
	});

	test("static keys from the file or GATEWAY_API_KEYS", () => {
		const c = { ...PROD_OK, auth: { ...PROD_OK.auth, static_keys: ["k"] } };
		expect(configError(() => buildConfig(c, {})).path).toBe("auth.static_keys");
		expect(configError(() => buildConfig(PROD_OK, { GATEWAY_API_KEYS: "k" })).path).toBe("auth.static_keys");
	});
});

describe("seed environment names", () => {
	// the production block of the lijiaoqiao gateway's README, verbatim
	const SEED_000_PRODUCTION = {
		GATEWAY_ENV: "production",
		PASSWORD_ENCRYPTION_KEY: "32-byte-production-secret........",
		GATEWAY_CORS_ALLOW_ORIGINS: "https://console.example.com,https://app.example.com",
		GATEWAY_TOKEN_RUNTIME_MODE: "remote_introspection",
		GATEWAY_TOKEN_RUNTIME_URL: "http://127.0.0.1:18081",
	};

	test("seed 000's production env is a valid production config", () => {
		const c = buildConfig({}, SEED_000_PRODUCTION);
		expect(c.env).toBe("production");
		expect(c.auth.encryption_key).toBe("32-byte-production-secret........");
		expect(c.server.cors_origins).toEqual(["https://console.example.com", "https://app.example.com"]);
		expect(c.auth.mode).toBe("remote_introspection");
		expect(c.auth.introspection_url).toBe("http://127.0.0.1:18081");
	});

	test("the seed's inmemory token runtime is our local mode; our own names win over the seed's", () => {
		expect(buildConfig({}, { GATEWAY_TOKEN_RUNTIME_MODE: "inmemory" }).auth.mode).toBe("local");
		const c = buildConfig(
			{},
			{ PASSWORD_ENCRYPTION_KEY: "seed-secret-0123456789", GATEWAY_ENCRYPTION_KEY: "ours-secret-0123456789" },
		);
		expect(c.auth.encryption_key).toBe("ours-secret-0123456789");
	});

	test("seed 004's .env names: target API, static keys and their shared rate limit, health route", () => {
		const c = buildConfig(
			{},
			{
				PORT: "8081",
				GIN_MODE: "release",
				TARGET_API_URL: "https://dashscope.aliyuncs.com/compatible-mode/v1",
				TARGET_API_KEY: "sk-target",
				GATEWAY_API_KEYS: "sk-gateway-key1,sk-gateway-key2",
				LOG_LEVEL: "debug",
				LOG_FORMAT: "json",
				RATE_LIMIT_REQUESTS_PER_MINUTE: "60",
				HEALTH_CHECK_ENABLED: "false",
			},
		);
		expect(c.server.port).toBe(8081);
		const openai = c.providers.find((p) => p.name === "openai");
		expect(openai?.base_url).toBe("https://dashscope.aliyuncs.com/compatible-mode/v1");
		expect(openai?.accounts[0].api_key).toBe("sk-target");
		expect(c.auth.static_keys).toEqual(["sk-gateway-key1", "sk-gateway-key2"]);
		expect(c.auth.static_keys_rpm).toBe(60);
		expect(c.log_level).toBe("debug");
		expect(c.server.health_route).toBe(false);
		expect(buildConfig({}, {}).server.health_route).toBe(true);
	});

	test("bad seed values are clear startup errors", () => {
		expect(configError(() => buildConfig({}, { LOG_FORMAT: "text" })).path).toBe("LOG_FORMAT");
		expect(configError(() => buildConfig({}, { HEALTH_CHECK_ENABLED: "maybe" })).path).toBe("GATEWAY_HEALTH_ROUTE");
		expect(configError(() => buildConfig({}, { RATE_LIMIT_REQUESTS_PER_MINUTE: "-1" })).path).toBe(
			"GATEWAY_STATIC_KEYS_RPM",
		);
	});

	test("the TOML keys behind them", () => {
		const c = buildConfig(
			{ server: { health_route: false }, auth: { static_keys_rpm: 30 }, routing: { strategy: "availability" } },
			{},
		);
		expect(c.server.health_route).toBe(false);
		expect(c.auth.static_keys_rpm).toBe(30);
		expect(c.routing.strategy).toBe("availability");
	});
});

describe("[[model_groups]]", () => {
	test("ordered by default; weighted with one weight per target", () => {
		const c = buildConfig(
			Bun.TOML.parse(`
[[model_groups]]
name = "smart"
targets = ["openai/gpt-4o", "claude/claude-sonnet-4-5"]

[[model_groups]]
name = "spread"
targets = ["openai/gpt-4o", "claude/claude-sonnet-4-5"]
strategy = "weighted"
weights = [3, 1]
`),
			{},
		);
		expect(c.model_groups).toEqual([
			{ name: "smart", targets: ["openai/gpt-4o", "claude/claude-sonnet-4-5"], strategy: "ordered", weights: null },
			{ name: "spread", targets: ["openai/gpt-4o", "claude/claude-sonnet-4-5"], strategy: "weighted", weights: [3, 1] },
		]);
		expect(buildConfig({}, {}).model_groups).toEqual([]);
	});

	test("mistakes are startup errors naming the key", () => {
		const g = (over: Record<string, unknown>) => ({ model_groups: [{ name: "g", targets: ["a/b", "c"], ...over }] });
		expect(configError(() => buildConfig(g({ fallback: "x" }), {})).path).toBe("model_groups[0].fallback");
		expect(configError(() => buildConfig(g({ name: "a/b" }), {})).path).toBe("model_groups[0].name");
		expect(configError(() => buildConfig(g({ targets: [] }), {})).path).toBe("model_groups[0].targets");
		expect(configError(() => buildConfig(g({ strategy: "random" }), {})).path).toBe("model_groups[0].strategy");
		expect(configError(() => buildConfig(g({ strategy: "weighted" }), {})).path).toBe("model_groups[0].weights");
		expect(configError(() => buildConfig(g({ strategy: "weighted", weights: [1] }), {})).message).toContain(
			"one weight per target",
		);
		expect(configError(() => buildConfig(g({ strategy: "weighted", weights: [0, 0] }), {})).path).toBe(
			"model_groups[0].weights",
		);
		expect(configError(() => buildConfig(g({ weights: [1, 2] }), {})).message).toContain("weighted");
		const twice = { model_groups: [g({}).model_groups[0], g({}).model_groups[0]] };
		expect(configError(() => buildConfig(twice, {})).path).toBe("model_groups[1].name");
	});
});
