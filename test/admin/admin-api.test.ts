import { beforeAll, describe, expect, test } from "bun:test";
import { createAdminRoutes } from "../../src/admin/index.ts";
import { validateUpstreamUrl } from "../../src/admin/url-safety.ts";
import { createApp } from "../../src/app.ts";
import { hashApiKey } from "../../src/auth/api-key-format.ts";
import { DbKeyAuthenticator } from "../../src/auth/db-key-authenticator.ts";
import { createDbKeyStore } from "../../src/auth/key-store.ts";
import { buildConfig } from "../../src/config/load-config.ts";
import { SecretBox } from "../../src/crypto/secret-box.ts";
import { GatewayError } from "../../src/errors/gateway-error.ts";
import { DailyCounters } from "../../src/limits/daily-counters.ts";
import { LimitTable } from "../../src/limits/limit-table.ts";
import { Limiter } from "../../src/limits/limiter.ts";
import { restoreUsage } from "../../src/limits/restore-usage.ts";
import { createLogger } from "../../src/logging/logger.ts";
import { MetricsRegistry } from "../../src/metrics/registry.ts";
import { ProviderCatalog } from "../../src/providers/provider-catalog.ts";
import { isBlockedAddress } from "../../src/providers/upstream-target-guard.ts";
import { AccountHealth } from "../../src/routing/account-health.ts";
import { AccountRecovery } from "../../src/routing/account-recovery.ts";
import { AccountStateTable } from "../../src/routing/account-state-table.ts";
import { ModelLanes } from "../../src/routing/model-lanes.ts";
import { buildGatewayDeps } from "../../src/server/build-deps.ts";
import { PriceBook } from "../../src/usage/cost.ts";
import { insertRequestLogs } from "../../src/usage/insert-request-logs.ts";
import { MutationLog } from "../support/audit-trail.ts";
import { useTestDatabase } from "../support/test-database.ts";
import { makeUsageEvent } from "../support/usage-events.ts";

const TOKEN = "admin-test-token-0123456789";
const SECRET = "sk-upstream-TOPSECRET-9d8e7f";
const t = useTestDatabase();
let app: ReturnType<typeof createApp>;
let catalog: ProviderCatalog;
let prices: PriceBook;
const mutations = new MutationLog();
/** Full client keys shown at creation: they must never reach the audit trail. */
const clientKeys: string[] = [];

beforeAll(async () => {
	const config = buildConfig(
		{
			providers: [
				{
					name: "cfg",
					type: "openai",
					base_url: "http://127.0.0.1:9/v1",
					models: ["c-model"],
					api_key: "sk-config-abcdefgh1234",
				},
			],
		},
		{ GATEWAY_ADMIN_TOKEN: TOKEN },
	);
	const accountTable = AccountStateTable.create();
	const box = new SecretBox(new Uint8Array(32).fill(7));
	catalog = new ProviderCatalog({ config, slotOf: (p, a) => accountTable.slotFor(p, a), sql: t.db.sql, box });
	prices = new PriceBook();
	const health = new AccountHealth(accountTable);
	const lanes = new ModelLanes(AccountStateTable.create(64), accountTable);
	const deps = buildGatewayDeps({
		config,
		logger: createLogger("silent"),
		accountTable,
		usage: { write() {} },
		prices,
		metrics: new MetricsRegistry(),
		providers: () => catalog.current(),
		health,
		lanes,
	});
	app = createApp({
		...deps,
		ops: {
			version: "t",
			readiness: () => ({ ready: true, checks: {} }),
			metrics: () => "",
		},
		plugins: [
			createAdminRoutes({
				adminToken: TOKEN,
				admin: config.admin,
				sql: t.db.sql,
				control: {
					bus: null,
					box,
					catalog,
					health,
					lanes,
					recovery: new AccountRecovery({ health, lanes }),
					prices,
					configPrices: [],
					upstreamPolicy: { production: false, allowlist: [] },
					limiter: new Limiter(new LimitTable({ capacity: 64 })),
				},
			}),
		],
	});
}, 30_000);

// biome-ignore lint/suspicious/noExplicitAny: admin answers are read as loose JSON in tests
async function call<T = Record<string, any>>(method: string, path: string, body?: unknown, token = TOKEN) {
	const res = await app.handle(
		new Request(`http://localhost/admin${path}`, {
			method,
			headers: { "x-admin-token": token, "content-type": "application/json" },
			body: body === undefined ? undefined : JSON.stringify(body),
		}),
	);
	mutations.note(method, path, res);
	const json = (await res.json()) as T;
	const shown = (json as { key?: unknown }).key;
	if (typeof shown === "string") clientKeys.push(shown);
	return { status: res.status, json };
}

describe("admin API: keys and tenants", () => {
	test("admin token required; a client key does not open admin routes", async () => {
		expect((await call("GET", "/keys", undefined, "wrong")).status).toBe(401);
		expect((await call("GET", "/keys", undefined, "sk-ix-whatever")).status).toBe(401);
	});

	test("create returns the full key once; only hash and prefix are stored; get/list never show it", async () => {
		const created = await call("POST", "/keys", {
			tenant_id: "acme",
			name: "ci",
			rpm: 5,
			models: ["gpt-4o-mini"],
			budget_usd: 2.5,
		});
		expect(created.status).toBe(201);
		const { key, id, prefix } = created.json;
		expect(key).toMatch(/^sk-ix-/);
		expect(prefix).toBe(key.slice(0, 12));
		const [row] = await t.db.sql`select key_hash, prefix from api_keys where id = ${id}`;
		expect(row.key_hash).toBe(hashApiKey(key));
		const one = await call("GET", `/keys/${id}`);
		expect(one.json.key).toBeUndefined();
		expect(one.json.rpm).toBe(5);
		expect(one.json.budget_usd).toBe(2.5);
		expect(JSON.stringify((await call("GET", "/keys")).json)).not.toContain(key);
		// tenant created on the fly
		expect((await call("GET", "/tenants/acme")).json.active_keys).toBeGreaterThanOrEqual(1);
	});

	test("patch changes limits (null clears), delete revokes; the key store sees it", async () => {
		const { json } = await call("POST", "/keys", {
			tenant_id: "acme",
			rpm: 5,
			tpm: 100,
		});
		const patched = await call("PATCH", `/keys/${json.id}`, {
			rpm: null,
			quota_daily_requests: 3,
			expires_at: "2099-01-01T00:00:00Z",
		});
		expect(patched.status).toBe(200);
		expect(patched.json.rpm).toBeNull();
		expect(patched.json.tpm).toBe(100);
		expect(patched.json.expires_at).toBe("2099-01-01T00:00:00.000Z");
		await call("PATCH", "/tenants/acme", { quota_daily_tokens: 1000 });
		const auth = new DbKeyAuthenticator({ store: createDbKeyStore(t.db.sql) });
		const p = await auth.authenticate(json.key);
		expect(p.limits).toEqual({ tpm: 100, quota_daily_requests: 3 });
		expect((p as { tenantLimits?: unknown }).tenantLimits).toEqual({
			quota_daily_tokens: 1000,
		});
		const revoked = await call("DELETE", `/keys/${json.id}`);
		expect(revoked.json.revoked_at).toBeString();
		auth.cache.dropId(json.id);
		await expect(Promise.resolve().then(() => auth.authenticate(json.key))).rejects.toThrow(GatewayError);
		expect((await call("GET", "/keys")).json.data.some((k: { id: string }) => k.id === json.id)).toBe(false);
		expect(
			(await call("GET", "/keys?include_revoked=true")).json.data.some((k: { id: string }) => k.id === json.id),
		).toBe(true);
	});

	test("validation errors are 400 OpenAI-shaped; unknown ids 404", async () => {
		const bad = await call("POST", "/keys", { tenant_id: "acme", rpm: -1 });
		expect(bad.status).toBe(400);
		expect(bad.json.error.code).toBe("PLATFORM_INVALID_REQUEST");
		expect((await call("POST", "/keys", { rpm: 1 })).status).toBe(400);
		expect((await call("POST", "/keys", { tenant_id: "acme", expires_at: "soon" })).status).toBe(400);
		expect((await call("GET", "/keys/key_nope")).status).toBe(404);
		expect((await call("POST", "/keys", { tenant_id: "acme", budget_period: "year" })).status).toBe(400);
		expect((await call("POST", "/tenants", { name: "x", budget_period: "fortnight" })).status).toBe(400);
	});

	test("budget_period on keys and tenants: stored, shown, patched; default total", async () => {
		const k = await call("POST", "/keys", { tenant_id: "acme", budget_usd: 3, budget_period: "week" });
		expect(k.status).toBe(201);
		expect(k.json).toMatchObject({ budget_usd: 3, budget_period: "week" });
		const patched = await call("PATCH", `/keys/${k.json.id}`, { budget_period: "month" });
		expect(patched.json.budget_period).toBe("month");
		// a PATCH that leaves it out leaves it alone
		expect((await call("PATCH", `/keys/${k.json.id}`, { rpm: 5 })).json.budget_period).toBe("month");
		const plain = await call("POST", "/keys", { tenant_id: "acme" });
		expect(plain.json.budget_period).toBe("total");
		const ten = await call("POST", "/tenants", { name: "periodic", budget_usd: 9, budget_period: "day" });
		expect(ten.json).toMatchObject({ budget_usd: 9, budget_period: "day" });
	});

	test("tenants CRUD; a tenant with keys cannot be deleted", async () => {
		const t = await call("POST", "/tenants", {
			id: "globex",
			name: "Globex",
			rpm: 100,
			budget_usd: 50,
		});
		expect(t.status).toBe(201);
		expect(t.json.budget_usd).toBe(50);
		expect((await call("POST", "/tenants", { id: "globex", name: "again" })).status).toBe(400);
		expect((await call("PATCH", "/tenants/globex", { rpm: null })).json.rpm).toBeNull();
		expect((await call("GET", "/tenants")).json.data.length).toBeGreaterThanOrEqual(2);
		expect((await call("DELETE", "/tenants/acme")).json.error.code).toBe("PLATFORM_CONFLICT");
		expect((await call("DELETE", "/tenants/globex")).status).toBe(200);
		expect((await call("GET", "/tenants/globex")).status).toBe(404);
	});
});

describe("admin API: providers, accounts, prices", () => {
	test("provider + account: sealed at rest, masked in answers, merged into the live provider set", async () => {
		const p = await call("POST", "/providers", {
			name: "rt",
			base_url: "http://127.0.0.1:9/v1/",
			models: ["rt-model"],
			accounts: [{ name: "a1", api_key: SECRET }],
		});
		expect(p.status).toBe(201);
		expect(p.json.base_url).toBe("http://127.0.0.1:9/v1");
		expect(p.json.accounts[0].api_key).toBe("sk-…8e7f");
		expect(JSON.stringify(p.json)).not.toContain(SECRET);
		const [row] = await t.db.sql`select api_key_enc from provider_accounts where provider = 'rt'`;
		expect(row.api_key_enc).toStartWith("v1:");
		expect(row.api_key_enc).not.toContain(SECRET);
		// bus null: the service reloaded the catalog itself
		const live = catalog.current().providers.get("rt");
		expect(live?.accounts[0].apiKey).toBe(SECRET);
		const added = await call("POST", "/providers/rt/accounts", {
			name: "a2",
			api_key: "sk-second-key-000000",
			weight: 3,
		});
		expect(added.status).toBe(201);
		expect(added.json.live).not.toBeNull();
		expect(catalog.current().providers.get("rt")?.accounts).toHaveLength(2);
		expect((await call("PATCH", "/providers/rt/accounts/a2", { enabled: false })).json.enabled).toBe(false);
		expect(catalog.current().providers.get("rt")?.accounts).toHaveLength(1);
		const list = await call("GET", "/providers");
		expect(list.json.data.map((x: { name: string; source: string }) => `${x.name}:${x.source}`)).toEqual([
			"cfg:config",
			"rt:database",
		]);
		expect(JSON.stringify(list.json)).not.toContain("sk-config-abcdefgh1234");
		expect((await call("POST", "/providers", { name: "cfg", models: ["x"] })).json.error.code).toBe(
			"PLATFORM_CONFLICT",
		);
		expect((await call("PATCH", "/providers/cfg", { models: ["x"] })).status).toBe(400);
		expect(
			(
				await call("POST", "/providers", {
					name: "ftp",
					base_url: "ftp://x",
					models: ["x"],
				})
			).status,
		).toBe(400);
		expect((await call("DELETE", "/providers/rt")).status).toBe(200);
		expect(catalog.current().providers.has("rt")).toBe(false);
		expect((await t.db.sql`select count(*)::int as n from provider_accounts`)[0].n).toBe(0);
	});

	test("prices: PUT writes model_prices and the PriceBook; GET lists them", async () => {
		const put = await call("PUT", "/prices/gpt-4o-mini", {
			input: 0.15,
			output: 0.6,
		});
		expect(put.status).toBe(200);
		expect(prices.lookup("gpt-4o-mini")?.output).toBe(0.6);
		const list = await call("GET", "/prices");
		expect(list.json.data).toContainEqual(
			expect.objectContaining({
				model: "gpt-4o-mini",
				input: 0.15,
				source: "database",
			}),
		);
		expect((await call("PUT", "/prices/x", { input: -1, output: 1 })).status).toBe(400);
	});

	test("prices: include_catalog=true adds the shipped catalog under the overrides", async () => {
		const plain = await call("GET", "/prices");
		expect(plain.json.data.some((p: { source: string }) => p.source === "catalog")).toBe(false);
		const all = await call("GET", "/prices?include_catalog=true");
		const byModel = new Map(all.json.data.map((p: { model: string }) => [p.model, p]));
		// the override of the test above wins over the catalog's price for the same model
		expect(byModel.get("gpt-4o-mini")).toMatchObject({ source: "database", input: 0.15 });
		expect(byModel.get("gpt-4o")).toMatchObject({ source: "catalog", object: "model_price" });
		expect(all.json.data.length).toBeGreaterThan(100);
	});
});

describe("upstream URL validation (SSRF)", () => {
	const prod = {
		production: true,
		allowlist: ["vllm.internal"],
		resolve: async (h: string) =>
			h === "evil.example" ? ["10.0.0.5"] : h === "vllm.internal" ? ["10.1.1.1"] : ["93.184.216.34"],
	};

	test("blocked address ranges", () => {
		for (const ip of [
			"127.0.0.1",
			"10.2.3.4",
			"172.16.0.1",
			"192.168.1.1",
			"169.254.169.254",
			"0.0.0.0",
			"100.64.0.1",
			"::1",
			"fe80::1",
			"fd00::1",
			"::ffff:127.0.0.1",
		]) {
			expect(isBlockedAddress(ip)).toBe(true);
		}
		for (const ip of ["93.184.216.34", "8.8.8.8", "2606:4700::1111"]) expect(isBlockedAddress(ip)).toBe(false);
	});

	test("production refuses private targets, also behind a host name, unless allowlisted", async () => {
		await expect(validateUpstreamUrl("http://127.0.0.1:8000/v1", prod)).rejects.toThrow(GatewayError);
		await expect(validateUpstreamUrl("http://[::1]/v1", prod)).rejects.toThrow(GatewayError);
		await expect(validateUpstreamUrl("https://evil.example/v1", prod)).rejects.toThrow("private");
		expect(await validateUpstreamUrl("https://api.example.com/v1/", prod)).toBe("https://api.example.com/v1");
		expect(await validateUpstreamUrl("http://vllm.internal:8000/v1", prod)).toBe("http://vllm.internal:8000/v1");
		await expect(validateUpstreamUrl("file:///etc/passwd", prod)).rejects.toThrow("http");
		await expect(validateUpstreamUrl("https://u:p@api.example.com", prod)).rejects.toThrow("credentials");
	});

	test("dev allows local upstreams", async () => {
		expect(
			await validateUpstreamUrl("http://127.0.0.1:11434/v1", {
				production: false,
				allowlist: [],
			}),
		).toBe("http://127.0.0.1:11434/v1");
	});
});

describe("restoreUsage", () => {
	test("today's requests/tokens and lifetime spend per key and tenant go into the limit table", async () => {
		const now = Date.now();
		await insertRequestLogs(t.db.sql, [
			makeUsageEvent({
				request_id: "r1",
				ts: now - 1000,
				key_id: "kr",
				tenant_id: "tr",
				total_tokens: 10,
				cost_usd: 0.5,
			}),
			makeUsageEvent({
				request_id: "r2",
				ts: now - 2000,
				key_id: "kr",
				tenant_id: "tr",
				total_tokens: 5,
				cost_usd: 0.25,
			}),
			makeUsageEvent({
				request_id: "r3",
				ts: now - 3000,
				key_id: "kr",
				tenant_id: "tr",
				status: 429,
				error_code: "PLATFORM_RATE_LIMITED",
			}),
		]);
		const limiter = new Limiter(new LimitTable({ capacity: 64 }));
		const r = await restoreUsage(t.db.sql, limiter, now);
		expect(r.subjects).toBe(2);
		const refused = limiter.check("key:kr", { quota_daily_requests: 2 }, { tokens: 0, usd: 0 }, now);
		expect(refused.ok).toBe(false);
		const budget = limiter.check("tenant:tr", { budget_usd: 1 }, { tokens: 0, usd: 0.3 }, now);
		expect(budget.ok).toBe(false);
		expect(limiter.check("tenant:tr", { budget_usd: 1 }, { tokens: 0, usd: 0.2 }, now).ok).toBe(true);
	});

	test("one subject: a key or tenant that gains a limit is seeded from its own rows only", async () => {
		const now = Date.now();
		await insertRequestLogs(t.db.sql, [
			makeUsageEvent({
				request_id: "s1",
				ts: now - 1000,
				key_id: "ks",
				tenant_id: "ts",
				total_tokens: 7,
				cost_usd: 0.5,
			}),
			makeUsageEvent({
				request_id: "s2",
				ts: now - 1000,
				key_id: "ko",
				tenant_id: "ts",
				total_tokens: 3,
				cost_usd: 0.25,
			}),
		]);
		const limiter = new Limiter(new LimitTable({ capacity: 64 }));
		const daily = (subject: string) => new DailyCounters(limiter.table).read(limiter.table.find(subject));
		expect(await restoreUsage(t.db.sql, limiter, now, { kind: "key", id: "ks" })).toEqual({ subjects: 1 });
		expect(daily("key:ks")).toMatchObject({ requests: 1, tokens: 7, spentMicroUsd: 500_000 });
		expect(limiter.table.find("key:ko")).toBe(-1);
		await restoreUsage(t.db.sql, limiter, now, { kind: "tenant", id: "ts" });
		expect(daily("tenant:ts")).toMatchObject({ requests: 2, tokens: 10, spentMicroUsd: 750_000 });
		// a repeat never double counts
		await restoreUsage(t.db.sql, limiter, now, { kind: "tenant", id: "ts" });
		expect(daily("tenant:ts").requests).toBe(2);
	});

	test("a periodic budget is seeded with the spend of its current UTC period only", async () => {
		const now = Date.parse("2026-07-15T12:00:00Z"); // a Wednesday
		await t.db.sql`insert into tenants (id, name) values ('tp', 'tp') on conflict do nothing`;
		await t.db.sql`
			insert into api_keys (id, tenant_id, prefix, key_hash, budget_usd, budget_period)
			values ('kday', 'tp', 'sk-ix-a', 'hash-kday', 10, 'day'), ('kweek', 'tp', 'sk-ix-b', 'hash-kweek', 10, 'week')`;
		const row = (id: string, key: string, ts: string, cost: number) =>
			makeUsageEvent({ request_id: id, ts: Date.parse(ts), key_id: key, tenant_id: "tp", cost_usd: cost });
		await insertRequestLogs(t.db.sql, [
			row("p1", "kday", "2026-07-15T01:00:00Z", 1), // today
			row("p2", "kday", "2026-07-14T23:00:00Z", 2), // yesterday
			row("p3", "kweek", "2026-07-13T00:30:00Z", 4), // Monday, this week
			row("p4", "kweek", "2026-07-12T23:30:00Z", 8), // Sunday, last week
		]);
		const limiter = new Limiter(new LimitTable({ capacity: 64 }));
		await restoreUsage(t.db.sql, limiter, now);
		const read = (subject: string, period: "day" | "week") =>
			new DailyCounters(limiter.table).read(limiter.table.find(subject), now, period);
		expect(read("key:kday", "day")).toMatchObject({ spentMicroUsd: 3_000_000, period: { spentMicroUsd: 1_000_000 } });
		expect(read("key:kweek", "week")).toMatchObject({
			spentMicroUsd: 12_000_000,
			period: { spentMicroUsd: 4_000_000 },
		});
		// the day budget of 10 has 9 left today
		const limits = { budget_usd: 10, budget_period: "day" as const };
		expect(limiter.check("key:kday", limits, { tokens: 0, usd: 9.5 }, now).ok).toBe(false);
		expect(limiter.check("key:kday", limits, { tokens: 0, usd: 9 }, now).ok).toBe(true);
	});
});

describe("admin audit trail", () => {
	// after every other test of this file: each change they made is in /admin/audit, secrets masked
	test("every admin change made above appears in /admin/audit once, secrets masked", async () => {
		expect(clientKeys.length).toBeGreaterThan(0);
		await mutations.expectAudited(
			async (cursor) => (await call("GET", `/audit?limit=7${cursor ? `&cursor=${cursor}` : ""}`)).json as never,
			[SECRET, "sk-second-key-000000", "sk-config-abcdefgh1234", ...clientKeys],
		);
	});
});
