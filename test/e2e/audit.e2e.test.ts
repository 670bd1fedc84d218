import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import OpenAI from "openai";
import postgres from "postgres";
import { freshDatabaseUrl, type GatewayServer, startGatewayServer } from "../support/gateway-server.ts";
import { type MockUpstream, startMockUpstream } from "../support/mock-upstream.ts";
import { startTcpProxy } from "../support/tcp-proxy.ts";
import { waitFor } from "../support/wait-for.ts";

/** Usage end to end: one usage row per request, through outages and restarts. */

const KEY = "sk-audit-client";
const ADMIN = "admin-token-audit-0123456789";

let mock: MockUpstream;
beforeAll(async () => {
	mock = await startMockUpstream();
}, 60_000);
afterAll(async () => {
	await mock?.stop();
});

const envFor = (extra: Record<string, string> = {}) => ({
	OPENAI_BASE_URL: `${mock.url}/v1`,
	OPENAI_API_KEY: "sk-upstream",
	OPENAI_MODELS: "gpt-4o-mini,gpt-4o",
	GATEWAY_API_KEYS: KEY,
	GATEWAY_ADMIN_TOKEN: ADMIN,
	...extra,
});

import type { LogRow, UsageRow } from "../../src/admin/usage-queries.ts";

const admin = <T>(gw: GatewayServer, path: string): Promise<T> =>
	fetch(`${gw.url}${path}`, { headers: { authorization: `Bearer ${ADMIN}` } }).then(async (r) => {
		if (!r.ok) throw new Error(`${path} → ${r.status} ${await r.text()}`);
		return (await r.json()) as T;
	});

type LogPage = { data: LogRow[]; next_cursor: string | null };

async function allLogs(gw: GatewayServer): Promise<LogRow[]> {
	const rows: LogRow[] = [];
	let cursor: string | null = null;
	do {
		const page: LogPage = await admin<LogPage>(
			gw,
			`/admin/logs?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
		);
		rows.push(...page.data);
		cursor = page.next_cursor;
	} while (cursor);
	return rows;
}

async function oneRequest(client: OpenAI, i: number, streamed: boolean): Promise<number> {
	const model = i % 2 === 0 ? "gpt-4o-mini" : "gpt-4o";
	if (!streamed) {
		const r = await client.chat.completions.create({ model, messages: [{ role: "user", content: `request ${i}` }] });
		return r.usage?.total_tokens ?? 0;
	}
	const s = await client.chat.completions.create({
		model,
		stream: true,
		stream_options: { include_usage: true },
		messages: [{ role: "user", content: `stream ${i}` }],
	});
	let total = 0;
	for await (const c of s) if (c.usage) total = c.usage.total_tokens;
	return total;
}

/** Runs `count` requests at `concurrency`, 30% streamed; resolves with the tokens each reported. */
async function load(client: OpenAI, from: number, count: number, concurrency: number): Promise<number[]> {
	const tokens: number[] = new Array(count);
	let next = 0;
	const workers = Array.from({ length: concurrency }, async () => {
		while (next < count) {
			const i = next++;
			tokens[i] = await oneRequest(client, from + i, (from + i) % 10 < 3);
		}
	});
	await Promise.all(workers);
	return tokens;
}

describe("usage rows and the admin read API", () => {
	let gw: GatewayServer;
	let restarted: GatewayServer | null = null;
	beforeAll(async () => {
		gw = await startGatewayServer({ env: envFor(), workers: 2 });
	}, 60_000);
	afterAll(async () => {
		await restarted?.cleanup();
		await gw?.cleanup();
	});

	test("every request (success or error) leaves exactly one row with tokens; usage aggregates match", async () => {
		const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY, maxRetries: 0 });
		const tokens = await load(client, 0, 40, 8);
		const bad = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "wrong", maxRetries: 0 });
		await bad.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "x" }] }).catch(() => {});
		await client.chat.completions.create({ model: "nope", messages: [{ role: "user", content: "x" }] }).catch(() => {});

		let rows: LogRow[] = [];
		await waitFor(
			async () => {
				rows = await allLogs(gw);
				return rows.length >= 42;
			},
			{ timeoutMs: 10_000, what: "42 rows" },
		);
		expect(rows.length).toBe(42);
		expect(new Set(rows.map((r) => r.request_id)).size).toBe(42);
		const ok = rows.filter((r) => r.status === 200);
		expect(ok.length).toBe(40);
		expect(ok.every((r) => r.total_tokens > 0 && r.prompt_tokens > 0 && r.completion_tokens > 0)).toBe(true);
		expect(ok.filter((r) => r.stream).length).toBe(12);
		expect(ok.filter((r) => r.stream).every((r) => r.ttft_ms !== null)).toBe(true);
		expect(rows.find((r) => r.status === 401)?.error_code).toBe("PLATFORM_AUTH_INVALID_API_KEY");
		expect(rows.find((r) => r.status === 404)?.error_code).toBe("PLATFORM_MODEL_NOT_FOUND");
		// newest first
		const ts = rows.map((r) => Date.parse(r.ts));
		expect(ts).toEqual([...ts].sort((a, b) => b - a));

		const usage = await admin<{ data: UsageRow[] }>(gw, "/admin/usage?group_by=model");
		const byModel = Object.fromEntries(usage.data.map((u) => [u.model, u]));
		const sum = (pred: (i: number) => boolean) => tokens.reduce((s, t, i) => s + (pred(i) ? t : 0), 0);
		expect(Number(byModel["gpt-4o-mini"].total_tokens)).toBe(sum((i) => i % 2 === 0));
		expect(Number(byModel["gpt-4o"].total_tokens)).toBe(sum((i) => i % 2 === 1));
		expect(Number(byModel["gpt-4o-mini"].requests)).toBe(20);

		const filtered = await admin<LogPage>(gw, "/admin/logs?model=gpt-4o&status=200&limit=5");
		expect(filtered.data.length).toBe(5);
		expect(filtered.data.every((r) => r.model === "gpt-4o" && r.status === 200)).toBe(true);
		expect(typeof filtered.next_cursor).toBe("string");
	});

	test("/metrics parses as Prometheus text and shows the audit pipeline", async () => {
		const text = await (await fetch(`${gw.url}/metrics`)).text();
		const sample = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*",?)*\})? -?[0-9.eE+-]+$/;
		for (const line of text.trim().split("\n")) {
			if (line.startsWith("# HELP ") || line.startsWith("# TYPE ")) continue;
			expect(line).toMatch(sample);
		}
		expect(text).toMatch(/interchange_audit_rows_written_total \d+/);
		expect(text).toContain("interchange_audit_rows_dropped_total 0");
		expect(text).toContain("interchange_request_duration_seconds_bucket");
	});

	test("the admin API wants the admin token", async () => {
		expect((await fetch(`${gw.url}/admin/logs`)).status).toBe(401);
		const withClientKey = await fetch(`${gw.url}/admin/logs`, { headers: { authorization: `Bearer ${KEY}` } });
		expect(withClientKey.status).toBe(401);
		const x = await fetch(`${gw.url}/admin/usage?group_by=day`, { headers: { "x-admin-token": ADMIN } });
		expect(x.status).toBe(200);
		const badGroup = await fetch(`${gw.url}/admin/usage?group_by=color`, { headers: { "x-admin-token": ADMIN } });
		expect(badGroup.status).toBe(400);
	});

	test("a restart keeps earlier rows (same data dir / database)", async () => {
		const before = (await allLogs(gw)).length;
		expect(await gw.stop("SIGTERM")).toBe(0);
		restarted = await startGatewayServer({
			env: envFor(),
			dataDir: gw.dataDir,
			databaseUrl: gw.databaseUrl,
		});
		const client = new OpenAI({ baseURL: `${restarted.url}/v1`, apiKey: KEY, maxRetries: 0 });
		await oneRequest(client, 1000, false);
		const server = restarted;
		await waitFor(async () => (await allLogs(server)).length === before + 1, {
			what: "the new row next to the old ones",
		});
	});
});

// Needs a real server to cut (the embedded one lives inside the gateway); CI always sets DATABASE_URL.
if (process.env.DATABASE_URL)
	describe("no row lost while Postgres is unreachable (real Postgres)", () => {
		test("an outage mid-load, then SIGTERM right after a last burst: one row per request", async () => {
			const dbUrl = (await freshDatabaseUrl()) as string;
			const direct = new URL(dbUrl);
			const proxy = startTcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
			const viaProxy = new URL(dbUrl);
			viaProxy.port = String(proxy.port);
			const gw = await startGatewayServer({ env: envFor(), databaseUrl: viaProxy.toString(), workers: 2 });
			const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
			try {
				const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY, maxRetries: 0 });
				const first = load(client, 0, 600, 20);
				await mock.waitFor(() => mock.requestCount >= 150, 20_000, "150 upstream requests");
				proxy.cut();
				const cutAt = Date.now();
				// a deliberate outage of fixed length (the thing under test), not a wait on a result
				await mock.waitFor(() => Date.now() - cutAt >= 3_000, 10_000, "a 3 s outage");
				proxy.restore();
				const tokens = await first;
				expect(tokens.every((t) => t > 0)).toBe(true);

				const startCount = mock.requestCount;
				const last = load(client, 600, 100, 20);
				await mock.waitFor(() => mock.requestCount >= startCount + 100, 20_000, "the last burst to reach the upstream");
				gw.proc.kill("SIGTERM");
				expect((await last).length).toBe(100);
				expect(await gw.proc.exited).toBe(0);

				const [row] = await sql`select count(*)::int as n, count(distinct request_id)::int as d,
				count(*) filter (where total_tokens > 0)::int as t from request_logs`;
				expect(row).toEqual({ n: 700, d: 700, t: 700 });
			} finally {
				await sql.end();
				await gw.cleanup();
				proxy.stop();
				const admin = postgres(process.env.DATABASE_URL as string, { max: 1, onnotice: () => {} });
				await admin.unsafe(`drop database if exists "${direct.pathname.slice(1)}" with (force)`);
				await admin.end();
			}
		}, 120_000);
	});
