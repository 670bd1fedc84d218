import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { createDb } from "../../src/db/client.ts";
import { startEmbeddedPostgres } from "../../src/db/embedded.ts";
import { type GatewayServer, startGatewayServer } from "../support/gateway-server.ts";
import { type MockUpstream, startMockUpstream } from "../support/mock-upstream.ts";
import { waitFor } from "../support/wait-for.ts";

const ADMIN = "e2e-admin-token-0123456789abcdef";
const PROVIDER_SECRET = "sk-runtime-SECRET-4f1c9b7e2a";
let mock: MockUpstream;
let gw: GatewayServer;
const clientKeys: string[] = [];

beforeAll(async () => {
	mock = await startMockUpstream();
	gw = await startGatewayServer({
		workers: 2,
		env: {
			OPENAI_BASE_URL: `${mock.url}/v1`,
			OPENAI_API_KEY: "sk-config-upstream",
			OPENAI_MODELS: "gpt-4o-mini,gpt-4o",
			GATEWAY_ADMIN_TOKEN: ADMIN,
			GATEWAY_ENCRYPTION_KEY: "a".repeat(64),
			LOG_LEVEL: "warn",
		},
	});
}, 60_000);

afterAll(async () => {
	await gw?.cleanup();
	await mock?.stop();
}, 30_000);

async function admin<T = Record<string, unknown>>(
	method: string,
	path: string,
	body?: unknown,
): Promise<{ status: number; json: T }> {
	const res = await fetch(`${gw.url}/admin${path}`, {
		method,
		headers: {
			authorization: `Bearer ${ADMIN}`,
			"content-type": "application/json",
		},
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	return { status: res.status, json: (await res.json()) as T };
}

async function newKey(fields: Record<string, unknown>): Promise<{ id: string; key: string }> {
	const r = await admin<{ id: string; key: string }>("POST", "/keys", {
		tenant_id: "acme",
		...fields,
	});
	expect(r.status).toBe(201);
	clientKeys.push(r.json.key);
	return r.json;
}

const client = (apiKey: string) => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey, maxRetries: 0 });
const ask = (c: OpenAI, model = "gpt-4o-mini", max_tokens = 5) =>
	c.chat.completions.create({
		model,
		messages: [{ role: "user", content: "hi" }],
		max_tokens,
	});

/** Runs `fn`, expecting an OpenAI APIError; answers it. */
async function failure(fn: () => Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
	try {
		await fn();
	} catch (e) {
		if (e instanceof OpenAI.APIError) return e;
		throw e;
	}
	throw new Error("expected the call to fail");
}

const header = (e: InstanceType<typeof OpenAI.APIError>, name: string) => e.headers?.get(name) ?? null;

describe("tenancy end to end (2 HTTP workers, openai client)", () => {
	test("rpm 5: five 200s, then 429 with retry-after and rate-limit headers", async () => {
		const { key } = await newKey({ rpm: 5 });
		const c = client(key);
		for (let i = 0; i < 5; i++) {
			const { data, response } = await ask(c).withResponse();
			expect(data.choices[0].message.content).toContain("echo:");
			expect(response.headers.get("x-ratelimit-limit-requests")).toBe("5");
			expect(response.headers.get("x-ratelimit-remaining-requests")).toBe(String(4 - i));
		}
		const e = await failure(() => ask(c));
		expect(e).toBeInstanceOf(OpenAI.RateLimitError);
		expect(e.status).toBe(429);
		expect((e.error as { code?: string }).code).toBe("PLATFORM_RATE_LIMITED");
		expect(Number(header(e, "retry-after"))).toBeGreaterThan(0);
		expect(header(e, "x-ratelimit-limit-requests")).toBe("5");
		expect(header(e, "x-ratelimit-remaining-requests")).toBe("0");
	});

	test("model allowlist: 403 for another model", async () => {
		const { key } = await newKey({ models: ["gpt-4o-mini"] });
		const c = client(key);
		await ask(c, "gpt-4o-mini");
		const e = await failure(() => ask(c, "gpt-4o"));
		expect(e).toBeInstanceOf(OpenAI.PermissionDeniedError);
		expect((e.error as { code?: string }).code).toBe("PLATFORM_MODEL_NOT_ALLOWED");
	});

	test("quota_daily_requests 3: 200, 200, 200, then 429 insufficient_quota, x-should-retry false", async () => {
		const { key } = await newKey({ quota_daily_requests: 3 });
		const c = client(key);
		for (let i = 0; i < 3; i++) await ask(c);
		const e = await failure(() => ask(c));
		expect(e.status).toBe(429);
		expect(e.type).toBe("insufficient_quota");
		expect((e.error as { code?: string }).code).toBe("PLATFORM_QUOTA_EXCEEDED");
		expect(header(e, "x-should-retry")).toBe("false");
	});

	test("a daily quota set on a key later counts the requests it served before", async () => {
		// An unlimited key is not counted live; the PATCH seeds its counters from request_logs.
		const { id, key } = await newKey({});
		const c = client(key);
		for (let i = 0; i < 3; i++) await ask(c);
		await waitFor(async () => (await admin<{ data: unknown[] }>("GET", `/logs?key_id=${id}`)).json.data.length === 3, {
			what: "the three usage rows",
		});
		expect((await admin("GET", `/keys/${id}`)).json.usage).toBeUndefined();
		const patched = await admin<{ usage: { requests_today: number } }>("PATCH", `/keys/${id}`, {
			quota_daily_requests: 4,
		});
		expect(patched.status).toBe(200);
		expect(patched.json.usage.requests_today).toBe(3);
		// One request is left of four. (A worker that has not yet heard of the change may
		// serve one more under the old, unlimited entry; counted from zero it would be four.)
		let served = 0;
		let refused: InstanceType<typeof OpenAI.APIError> | null = null;
		for (let i = 0; i < 5 && !refused; i++) {
			try {
				await ask(c);
				served++;
			} catch (e) {
				refused = e as InstanceType<typeof OpenAI.APIError>;
			}
		}
		expect(refused?.status).toBe(429);
		expect((refused?.error as { code?: string } | undefined)?.code).toBe("PLATFORM_QUOTA_EXCEEDED");
		expect(served).toBeGreaterThanOrEqual(1);
		expect(served).toBeLessThan(4);
	});

	test("revoked key: 401 on every worker within a second", async () => {
		const { id, key } = await newKey({});
		const c = client(key);
		for (let i = 0; i < 6; i++) await ask(c); // warm both workers' auth caches
		const revoked = await admin("DELETE", `/keys/${id}`);
		expect(revoked.status).toBe(200);
		expect(revoked.json.revoked_at).toBeString();
		await waitFor(async () => (await failure(() => ask(c)).catch(() => null))?.status === 401, {
			timeoutMs: 1_000,
			what: "401 after revoke",
		});
		for (let i = 0; i < 6; i++) {
			const e = await failure(() => ask(c));
			expect(e).toBeInstanceOf(OpenAI.AuthenticationError);
			expect((e.error as { code?: string }).code).toBe("PLATFORM_AUTH_KEY_REVOKED");
		}
	});

	test("expired key: 401 within a second of the change", async () => {
		const { id, key } = await newKey({});
		const c = client(key);
		for (let i = 0; i < 6; i++) await ask(c);
		const patched = await admin("PATCH", `/keys/${id}`, {
			expires_at: new Date(Date.now() - 1_000).toISOString(),
		});
		expect(patched.status).toBe(200);
		await waitFor(async () => (await failure(() => ask(c)).catch(() => null))?.status === 401, {
			timeoutMs: 1_000,
			what: "401 after expiry",
		});
		for (let i = 0; i < 6; i++) {
			const e = await failure(() => ask(c));
			expect((e.error as { code?: string }).code).toBe("PLATFORM_AUTH_KEY_EXPIRED");
		}
	});

	test("50 concurrent requests on a budget worth 10 requests: at most 10 admitted", async () => {
		// Price the mock's deterministic answer: input free, output 2,000 USD/Mtok; max_tokens 5
		// gives 5 completion tokens = 0.01 USD per request, and the estimate equals the real cost.
		const put = await admin("PUT", "/prices/gpt-4o-mini", {
			input: 0,
			output: 2000,
		});
		expect(put.status).toBe(200);
		// The price reached both workers (change bus): six probe requests cost exactly 0.06.
		// (live counters run for keys with a limit: the probe has a budget it cannot reach)
		const probe = await newKey({ budget_usd: 1000 });
		for (let i = 0; i < 6; i++) expect((await ask(client(probe.key))).usage?.completion_tokens).toBe(5);
		const probed = await admin<{
			usage: { spent_usd: number; requests_today: number };
		}>("GET", `/keys/${probe.id}`);
		expect(probed.json.usage.requests_today).toBe(6);
		expect(probed.json.usage.spent_usd).toBeCloseTo(0.06, 9);
		const { key } = await newKey({ budget_usd: 0.1 });
		const c = client(key);
		const results = await Promise.allSettled(Array.from({ length: 50 }, () => ask(c, "gpt-4o-mini")));
		const ok = results.filter((r) => r.status === "fulfilled").length;
		const refused = results.filter(
			(r) =>
				r.status === "rejected" &&
				r.reason instanceof OpenAI.APIError &&
				(r.reason.error as { code?: string }).code === "PLATFORM_BUDGET_EXCEEDED",
		);
		expect(ok).toBeLessThanOrEqual(10);
		// the estimate equals the real cost here, so the budget is used to the cent
		expect(ok).toBe(10);
		expect(ok + refused.length).toBe(50);
		const e = (refused[0] as PromiseRejectedResult).reason as InstanceType<typeof OpenAI.APIError>;
		expect(header(e, "x-should-retry")).toBe("false");
	});

	test("provider and account created through the admin API serve traffic within a second", async () => {
		const created = await admin("POST", "/providers", {
			name: "runtime",
			type: "openai",
			base_url: `${mock.url}/v1`,
			models: ["rt-model"],
		});
		expect(created.status).toBe(201);
		const acct = await admin<{ api_key: string }>("POST", "/providers/runtime/accounts", {
			name: "a1",
			api_key: PROVIDER_SECRET,
		});
		expect(acct.status).toBe(201);
		expect(acct.json.api_key).not.toContain(PROVIDER_SECRET);
		const startedAt = Date.now();
		const { key } = await newKey({});
		const c = client(key);
		// every worker: several answers in a row
		let streak = 0;
		await waitFor(
			async () => {
				try {
					await ask(c, "rt-model");
					streak++;
				} catch {
					streak = 0;
				}
				return streak >= 6;
			},
			{
				timeoutMs: 1_000,
				intervalMs: 5,
				what: "runtime provider serving on every worker",
			},
		);
		expect(Date.now() - startedAt).toBeLessThan(1_500);
		expect(mock.countByKey(PROVIDER_SECRET)).toBeGreaterThanOrEqual(6);
		const list = await admin<{
			data: {
				name: string;
				source: string;
				accounts: { api_key: string; live: unknown }[];
			}[];
		}>("GET", "/providers");
		const runtime = list.json.data.find((p) => p.name === "runtime");
		expect(runtime?.source).toBe("database");
		expect(runtime?.accounts[0].live).not.toBeNull();
		expect(JSON.stringify(list.json)).not.toContain(PROVIDER_SECRET);
		expect(list.json.data.find((p) => p.name === "openai")?.source).toBe("config");
		// the per-account series cover admin-created accounts too
		const metrics = await (await fetch(`${gw.url}/metrics`)).text();
		expect(metrics).toMatch(/interchange_account_attempts_total\{provider="runtime",account="a1"\} ([6-9]|\d\d+)/);
	});

	test("the database holds neither client keys nor provider secrets in plaintext", async () => {
		expect(clientKeys.length).toBeGreaterThan(5);
		// let the audit writer flush, then stop the gateway (the embedded database lives inside it)
		expect(await gw.stop()).toBe(0);
		let dump: string;
		if (gw.databaseUrl) {
			const proc = Bun.spawnSync(["pg_dump", "--no-owner", gw.databaseUrl]);
			expect(proc.exitCode).toBe(0);
			dump = proc.stdout.toString();
		} else {
			const pg = await startEmbeddedPostgres(gw.dataDir);
			const db = createDb(pg.url, { max: 1 });
			try {
				dump = await dumpTextColumns(db.sql);
			} finally {
				await db.close();
				await pg.stop();
			}
		}
		expect(dump).toContain("runtime"); // the dump is real
		expect(dump.length).toBeGreaterThan(1000);
		for (const k of clientKeys) expect(dump).not.toContain(k);
		expect(dump).not.toContain(PROVIDER_SECRET);
		expect(dump).not.toContain("SECRET-4f1c9b7e2a");
	}, 30_000);
});

/** Every text-like column of every user table, as one string (pg_dump stand-in for PGlite). */
async function dumpTextColumns(sql: ReturnType<typeof createDb>["sql"]): Promise<string> {
	const cols = await sql<{ table_name: string; column_name: string }[]>`
		select table_name, column_name from information_schema.columns
		where table_schema = 'public' and data_type in ('text', 'character varying', 'jsonb', 'ARRAY', 'json')`;
	const parts: string[] = [];
	for (const c of cols) {
		const rows = await sql.unsafe(`select "${c.column_name}"::text as v from "${c.table_name}"`);
		for (const r of rows) parts.push(String(r.v));
	}
	return parts.join("\n");
}
