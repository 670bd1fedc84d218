import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import OpenAI from "openai";
import postgres from "postgres";
import type { LogRow, UsageRow } from "../../src/admin/usage-queries.ts";
import { type GatewayServer, startGatewayServer } from "../support/gateway-server.ts";
import { type MockUpstream, startMockUpstream } from "../support/mock-upstream.ts";
import { waitFor } from "../support/wait-for.ts";

/** The operator's admin API on the real gateway: a key's daily spend in one call, the audit trail, live health. */

const ADMIN = "e2e-admin-usage-token-0123456789";
let mock: MockUpstream;
let gw: GatewayServer;

beforeAll(async () => {
	mock = await startMockUpstream();
	gw = await startGatewayServer({
		workers: 2,
		env: {
			OPENAI_BASE_URL: `${mock.url}/v1`,
			OPENAI_API_KEY: "sk-config-upstream",
			OPENAI_MODELS: "gpt-4o-mini,gpt-4o",
			GATEWAY_ADMIN_TOKEN: ADMIN,
			GATEWAY_ENCRYPTION_KEY: "b".repeat(64),
			LOG_LEVEL: "warn",
		},
	});
}, 60_000);

afterAll(async () => {
	await gw?.cleanup();
	await mock?.stop();
}, 30_000);

async function admin<T>(method: string, path: string, body?: unknown): Promise<T> {
	const res = await fetch(`${gw.url}/admin${path}`, {
		method,
		headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${await res.text()}`);
	return (await res.json()) as T;
}

async function traffic(key: string, plain: number, streamed: number): Promise<void> {
	const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key, maxRetries: 0 });
	for (let i = 0; i < plain; i++)
		await client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: `hi ${i}` }] });
	for (let i = 0; i < streamed; i++) {
		const s = await client.chat.completions.create({
			model: "gpt-4o",
			stream: true,
			messages: [{ role: "user", content: `stream ${i}` }],
		});
		for await (const _ of s);
	}
}

describe("admin usage and audit on the real gateway", () => {
	let keyId = "";
	let fullKey = "";

	test("GET /admin/usage?group_by=key,day&key_id=… is that key's daily spend, equal to its request_logs rows", async () => {
		const mine = await admin<{ id: string; key: string }>("POST", "/keys", { tenant_id: "ops", name: "spender" });
		const other = await admin<{ id: string; key: string }>("POST", "/keys", { tenant_id: "ops", name: "other" });
		keyId = mine.id;
		fullKey = mine.key;
		await traffic(mine.key, 3, 2);
		await traffic(other.key, 1, 0);
		let logs: LogRow[] = [];
		await waitFor(
			async () => {
				logs = (await admin<{ data: LogRow[] }>("GET", `/logs?key_id=${mine.id}&limit=500`)).data;
				return logs.length === 5;
			},
			{ timeoutMs: 15_000, what: "the key's 5 request_logs rows" },
		);
		const answer = await admin<{ group_by: string[]; data: UsageRow[] }>(
			"GET",
			`/usage?group_by=key,day&key_id=${mine.id}`,
		);
		expect(answer.group_by).toEqual(["key", "day"]);
		const days = new Map<string, LogRow[]>();
		for (const r of logs) {
			const day = `${r.ts.slice(0, 10)}T00:00:00.000Z`;
			days.set(day, [...(days.get(day) ?? []), r]);
		}
		expect(answer.data.map((r) => [r.bucket, r.key_id])).toEqual([...days.keys()].sort().map((d) => [d, mine.id]));
		for (const row of answer.data) {
			const rows = days.get(row.bucket as string) ?? [];
			const sum = (f: (r: LogRow) => number) => rows.reduce((n, r) => n + f(r), 0);
			expect(row.requests).toBe(rows.length);
			expect(row.total_tokens).toBe(sum((r) => r.total_tokens));
			expect(row.prompt_tokens).toBe(sum((r) => r.prompt_tokens));
			expect(row.completion_tokens).toBe(sum((r) => r.completion_tokens));
			expect(row.cost_usd).toBeCloseTo(
				sum((r) => r.cost_usd ?? 0),
				12,
			);
			expect(row.cost_usd).toBeGreaterThan(0);
			expect(row.ttft_ms_p50).not.toBeNull();
		}
		if (gw.databaseUrl) {
			// and exactly what SQL over request_logs says
			const sql = postgres(gw.databaseUrl, { max: 1, onnotice: () => {} });
			const [direct] = await sql`
				select count(*)::int as requests, sum(cost_usd)::float8 as cost_usd, sum(total_tokens)::int as total_tokens
				from request_logs where key_id = ${mine.id}`;
			await sql.end();
			const total = answer.data.reduce(
				(a, r) => ({
					requests: a.requests + r.requests,
					cost_usd: a.cost_usd + (r.cost_usd ?? 0),
					total_tokens: a.total_tokens + r.total_tokens,
				}),
				{ requests: 0, cost_usd: 0, total_tokens: 0 },
			);
			expect(total).toEqual(direct as typeof total);
		}
		const csv = await fetch(`${gw.url}/admin/usage?group_by=key,day&key_id=${mine.id}`, {
			headers: { authorization: `Bearer ${ADMIN}`, accept: "text/csv" },
		});
		expect((await csv.text()).trimEnd().split("\r\n").length).toBe(1 + answer.data.length);
	}, 60_000);

	test("the key's creation is in /admin/audit with the caller's socket address and the request id", async () => {
		const res = await fetch(`${gw.url}/admin/audit?target=key:${keyId}`, {
			headers: { authorization: `Bearer ${ADMIN}` },
		});
		const { data } = (await res.json()) as { data: Record<string, unknown>[] };
		expect(data.length).toBe(1);
		expect(data[0]).toMatchObject({ action: "key.create", actor: "token", target: { type: "key", id: keyId } });
		expect(String(data[0].client_address)).toMatch(/127\.0\.0\.1|::1/);
		expect(String(data[0].request_id)).toStartWith("req_");
		expect(JSON.stringify(data)).not.toContain(fullKey);
	});

	test("provider views show each account's live health: state, in-flight, error ratio, EWMA TTFT", async () => {
		const p = await admin<{ accounts: { live: Record<string, unknown> }[] }>("GET", "/providers/openai");
		const live = p.accounts[0].live;
		expect(live.status).toMatchObject({ state: "healthy", reason: null });
		expect(live.inflight).toBe(0);
		expect(live.error_ratio).toBe(0);
		expect(live.ewma_ttft_ms).toBeGreaterThan(0);
		expect(live.attempts).toBeGreaterThanOrEqual(6);
		const list = await admin<{ data: { name: string; accounts: { live: unknown }[] }[] }>("GET", "/providers");
		expect(list.data.find((x) => x.name === "openai")?.accounts[0].live).toMatchObject({ inflight: 0 });
	});
});
