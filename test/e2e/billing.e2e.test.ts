import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { type GatewayServer, startGatewayServer } from "../support/gateway-server.ts";
import { type MockUpstream, startMockUpstream } from "../support/mock-upstream.ts";
import { waitFor } from "../support/wait-for.ts";

const ADMIN = "e2e-admin-token-billing-0123456789";
const STATIC_KEY = "sk-static-billing-dev-key";
/** The mock answers 5,006 words when the request sets no cap; "hi" is 4 prompt tokens: 5,010 each. */
const ANSWER_WORDS = 5_006;
const UNPRICED = "mystery-model-x";
let mock: MockUpstream;
let gw: GatewayServer;

beforeAll(async () => {
	mock = await startMockUpstream({ answerWords: ANSWER_WORDS });
	gw = await startGatewayServer({
		workers: 2,
		env: {
			OPENAI_BASE_URL: `${mock.url}/v1`,
			OPENAI_API_KEY: "sk-config-upstream",
			OPENAI_MODELS: `gpt-4o-mini,${UNPRICED}`,
			GATEWAY_ADMIN_TOKEN: ADMIN,
			GATEWAY_API_KEYS: STATIC_KEY,
			GATEWAY_ENCRYPTION_KEY: "b".repeat(64),
			LOG_LEVEL: "warn",
		},
	});
}, 60_000);

afterAll(async () => {
	await gw?.cleanup();
	await mock?.stop();
}, 30_000);

async function admin<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T> {
	const res = await fetch(`${gw.url}/admin${path}`, {
		method,
		headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	return (await res.json()) as T;
}

const newKey = (fields: Record<string, unknown>) =>
	admin<{ id: string; key: string }>("POST", "/keys", { tenant_id: "billing", ...fields });
const client = (apiKey: string) => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey, maxRetries: 0 });
const ask = (c: OpenAI, model = "gpt-4o-mini", max_tokens?: number) =>
	c.chat.completions.create({ model, messages: [{ role: "user", content: "hi" }], max_tokens });

interface LogRow {
	model: string;
	status: number;
	total_tokens: number;
	cost_usd: number | null;
}
const logsOf = async (keyId: string) => (await admin<{ data: LogRow[] }>("GET", `/logs?key_id=${keyId}`)).data;

async function failure(fn: () => Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
	try {
		await fn();
	} catch (e) {
		if (e instanceof OpenAI.APIError) return e;
		throw e;
	}
	throw new Error("expected the call to fail");
}

describe("reservations that cannot be outrun", () => {
	test("50 concurrent requests without max_tokens on a 1,000-token quota end within the documented bound", async () => {
		const { id, key } = await newKey({ quota_daily_tokens: 1_000 });
		const c = client(key);
		const results = await Promise.allSettled(Array.from({ length: 50 }, () => ask(c)));
		const ok = results.filter((r) => r.status === "fulfilled");
		expect(ok.length).toBeGreaterThanOrEqual(1);
		for (const r of results) {
			if (r.status === "rejected") {
				expect((r.reason as InstanceType<typeof OpenAI.APIError>).code).toBe("PLATFORM_QUOTA_EXCEEDED");
			}
		}
		// Bound (README): L + ⌊L / R_min⌋ × (U_max − R_min). Without max_tokens each request
		// reserves the model's maximum output, more than L, so R = L = 1,000 and U = 5,010:
		// 1,000 + 1 × 4,010 = 5,010 (15,030 when 256 output tokens were reserved).
		const L = 1_000;
		const U = 4 + ANSWER_WORDS;
		const bound = L + Math.floor(L / L) * (U - L);
		await waitFor(async () => (await logsOf(id)).filter((r) => r.status === 200).length === ok.length, {
			what: "the usage rows of the admitted requests",
		});
		const view = await admin<{ usage: { tokens_today: number } }>("GET", `/keys/${id}`);
		expect(view.usage.tokens_today).toBe(ok.length * U);
		expect(view.usage.tokens_today).toBeLessThanOrEqual(bound);
		// and the rows agree with the counters
		const logged = (await logsOf(id)).reduce((n, r) => n + r.total_tokens, 0);
		expect(logged).toBeLessThanOrEqual(bound);
	});
});

describe("a price for every model", () => {
	test("gpt-4o-mini with no configured price costs more than $0, from the shipped catalog", async () => {
		const { id, key } = await newKey({});
		await ask(client(key), "gpt-4o-mini", 5);
		await waitFor(async () => (await logsOf(id)).length === 1, { what: "the usage row" });
		const [row] = await logsOf(id);
		// 4 prompt tokens at $0.15/M + 5 completion tokens at $0.60/M
		expect(row.cost_usd).toBeGreaterThan(0);
		expect(row.cost_usd as number).toBeCloseTo((4 * 0.15 + 5 * 0.6) / 1e6, 12);
	});

	test("an unpriced model on a key with a budget: 403 PLATFORM_MODEL_UNPRICED, before any upstream call", async () => {
		const { key } = await newKey({ budget_usd: 5 });
		const before = mock.requestCount;
		const e = await failure(() => ask(client(key), UNPRICED, 5));
		expect(e.status).toBe(403);
		expect(e.code).toBe("PLATFORM_MODEL_UNPRICED");
		expect(e.message).toContain(UNPRICED);
		expect(e.headers?.get("x-request-id")).toBeTruthy();
		expect(mock.requestCount).toBe(before);
	});

	test("an unpriced model without a budget is served; its row has an unknown cost and a metric counts it", async () => {
		const { id, key } = await newKey({});
		const answer = await ask(client(key), UNPRICED, 5);
		expect(answer.usage?.completion_tokens).toBe(5);
		await waitFor(async () => (await logsOf(id)).length === 1, { what: "the usage row" });
		const [row] = await logsOf(id);
		expect(row.total_tokens).toBe(9);
		expect(row.cost_usd).toBeNull();
		await waitFor(
			async () =>
				(await (await fetch(`${gw.url}/metrics`)).text()).includes(
					`interchange_unpriced_requests_total{model="${UNPRICED}"}`,
				),
			{ what: "the unpriced-requests metric" },
		);
		expect(gw.output().match(/model has no price/g)?.length ?? 0).toBeGreaterThanOrEqual(1);
	});
});

describe("GET /v1/token/balance", () => {
	interface Balance {
		key_id: string | null;
		limited: boolean;
		limits: Record<
			string,
			{ limit: number; used: number; remaining: number; resets_at: string | null; period?: string }
		>;
	}
	const balance = async (apiKey: string) => {
		const res = await fetch(`${gw.url}/v1/token/balance`, { headers: { authorization: `Bearer ${apiKey}` } });
		return { status: res.status, json: (await res.json()) as Balance };
	};

	test("answers for the caller's own key only: limits, usage this period, what remains, when it resets", async () => {
		const a = await newKey({ quota_daily_tokens: 100_000, budget_usd: 5, budget_period: "day" });
		const b = await newKey({ quota_daily_tokens: 50_000, budget_usd: 1, budget_period: "month" });
		await ask(client(a.key), "gpt-4o-mini", 5);
		const mine = await balance(a.key);
		expect(mine.status).toBe(200);
		expect(mine.json.key_id).toBe(a.id);
		expect(mine.json.limited).toBe(true);
		expect(mine.json.limits.daily_tokens).toMatchObject({ limit: 100_000, used: 9, remaining: 99_991 });
		const tomorrow = new Date((Math.floor(Date.now() / 86_400_000) + 1) * 86_400_000).toISOString();
		expect(mine.json.limits.daily_tokens.resets_at).toBe(tomorrow);
		expect(mine.json.limits.budget_usd.period).toBe("day");
		expect(mine.json.limits.budget_usd.used).toBeGreaterThan(0);
		expect(mine.json.limits.budget_usd.resets_at).toBe(tomorrow);
		// the other key sees itself, untouched by a's usage, and nothing of a
		const theirs = await balance(b.key);
		expect(theirs.json.key_id).toBe(b.id);
		expect(theirs.json.limits.daily_tokens).toMatchObject({ limit: 50_000, used: 0, remaining: 50_000 });
		expect(theirs.json.limits.budget_usd).toMatchObject({ limit: 1, used: 0, period: "month" });
		expect(JSON.stringify(theirs.json)).not.toContain(a.id);
		// a query parameter cannot point it at another key
		const res = await fetch(`${gw.url}/v1/token/balance?key_id=${a.id}`, {
			headers: { authorization: `Bearer ${b.key}` },
		});
		expect(((await res.json()) as Balance).key_id).toBe(b.id);
	});

	test("a static key gets an unlimited answer; no key gets 401", async () => {
		const s = await balance(STATIC_KEY);
		expect(s.status).toBe(200);
		expect(s.json).toEqual({ object: "token_balance", key_id: null, limited: false, limits: {} } as unknown as Balance);
		const none = await fetch(`${gw.url}/v1/token/balance`);
		expect(none.status).toBe(401);
		expect(((await none.json()) as { error: { code: string } }).error.code).toBe("PLATFORM_AUTH_MISSING_API_KEY");
	});
});
