import { beforeAll, describe, expect, test } from "bun:test";
import { USAGE_MAX_ROWS } from "../../src/admin/usage-queries.ts";
import { insertRequestLogs } from "../../src/usage/insert-request-logs.ts";
import type { UsageEvent } from "../../src/usage/usage-event.ts";
import { type AdminTestApp, adminTestApp } from "../support/admin-app.ts";
import { useTestDatabase } from "../support/test-database.ts";
import { makeUsageEvent } from "../support/usage-events.ts";

/** GET /admin/usage: filters, several dimensions, time buckets, percentiles, CSV, bounds. */

const TOKEN = "admin-usage-token-0123456789";
const t = useTestDatabase();
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const today = Math.floor(Date.now() / DAY) * DAY;
let admin: AdminTestApp;

// key_a: 10 rows today 01:xx (latency 10..100, ttft 1..10 on streams), 4 rows yesterday; key_b: 6 rows
// today on another provider and account, two of them 5xx and one 429, and 2 unpriced rows.
const events: UsageEvent[] = [];
for (let i = 0; i < 10; i++)
	events.push(
		makeUsageEvent({
			request_id: `a_today_${i}`,
			ts: today + HOUR + i * 60_000,
			key_id: "key_a",
			tenant_id: "t1",
			model: "m-small",
			provider: "p1",
			account: "acct1",
			latency_ms: (i + 1) * 10,
			ttft_ms: i + 1,
			stream: true,
			cost_usd: 0.25,
			prompt_tokens: 100,
			completion_tokens: 20,
			total_tokens: 120,
		}),
	);
for (let i = 0; i < 4; i++)
	events.push(
		makeUsageEvent({
			request_id: `a_yday_${i}`,
			ts: today - DAY + 2 * HOUR + i * 1000,
			key_id: "key_a",
			tenant_id: "t1",
			model: "m-small",
			provider: "p1",
			account: "acct1",
			cost_usd: 1,
		}),
	);
for (let i = 0; i < 6; i++)
	events.push(
		makeUsageEvent({
			request_id: `b_${i}`,
			ts: today + HOUR + i * 1000,
			key_id: "key_b",
			tenant_id: "t2",
			model: i < 2 ? "=cmd()" : "m-large",
			provider: "p2",
			account: "acct1",
			status: i === 2 || i === 3 ? 502 : i === 4 ? 429 : 200,
			cost_usd: i < 2 ? null : 2,
		}),
	);

beforeAll(async () => {
	admin = await adminTestApp(t.db.sql, TOKEN);
	await insertRequestLogs(t.db.sql, events);
}, 30_000);

const usage = async (qs: string, headers?: Record<string, string>) => {
	const r = await admin.call("GET", `/usage?${qs}`, { headers });
	return r;
};
const rows = async (qs: string) => {
	const r = await usage(qs);
	expect(r.status).toBe(200);
	return r.json.data as Record<string, unknown>[];
};

describe("GET /admin/usage", () => {
	test("no group_by: one total row with every metric", async () => {
		const r = await usage("tenant_id=t1");
		expect(r.json).toMatchObject({ object: "list", group_by: [], truncated: false });
		expect(r.json.data).toEqual([
			{
				requests: 14,
				errors: 0,
				unpriced_requests: 0,
				prompt_tokens: 1040,
				completion_tokens: 220,
				total_tokens: 1260,
				cost_usd: 6.5,
				latency_ms_p50: expect.any(Number),
				latency_ms_p95: expect.any(Number),
				latency_ms_p99: expect.any(Number),
				ttft_ms_p50: 5.5,
				ttft_ms_p95: expect.any(Number),
				ttft_ms_p99: expect.any(Number),
			},
		]);
	});

	test("every filter narrows the rows (key_id is no longer ignored)", async () => {
		const total = async (qs: string) => ((await rows(qs))[0]?.requests as number | undefined) ?? 0;
		expect(await total("")).toBe(20);
		expect(await total("key_id=key_a")).toBe(14);
		expect(await total("key_id=key_b")).toBe(6);
		expect(await total("tenant_id=t2")).toBe(6);
		expect(await total("model=m-large")).toBe(4);
		expect(await total("provider=p2")).toBe(6);
		expect(await total("account=acct1")).toBe(20);
		expect(await total("provider=p1&account=acct1")).toBe(14);
		expect(await total("status=502")).toBe(2);
		expect(await total("status=5xx")).toBe(2);
		expect(await total("status=4xx")).toBe(1);
		expect(await total("status=error")).toBe(3);
		expect(await total("status=2xx")).toBe(17);
		expect(await total(`since=${new Date(today).toISOString()}`)).toBe(16);
		expect(await total(`until=${new Date(today).toISOString()}`)).toBe(4);
		expect(await total(`since=${today - DAY}&until=${today - DAY + 3 * HOUR}`)).toBe(4);
		// relative: rows are at most a day and a bit old, never in the future
		expect(await total("since=3d")).toBe(20);
		expect(await total("until=3d")).toBe(0);
	});

	test("group_by=key,day: each key's daily spend in one call, by bucket then cost", async () => {
		const data = await rows("group_by=key,day");
		expect(data.map((r) => [r.bucket, r.key_id, r.requests, r.cost_usd])).toEqual([
			[new Date(today - DAY).toISOString(), "key_a", 4, 4],
			[new Date(today).toISOString(), "key_b", 6, 8],
			[new Date(today).toISOString(), "key_a", 10, 2.5],
		]);
		const one = await rows("group_by=key,day&key_id=key_a");
		expect(one.map((r) => r.cost_usd)).toEqual([4, 2.5]);
	});

	test("provider,account and model,status: every group column; three dimensions at most", async () => {
		const accounts = await rows("group_by=provider,account");
		expect(accounts.map((r) => [r.provider, r.account, r.requests])).toEqual([
			["p2", "acct1", 6],
			["p1", "acct1", 14],
		]);
		const byStatus = await rows("group_by=model,status&key_id=key_b");
		expect(byStatus.map((r) => [r.model, r.status, r.requests])).toEqual([
			["m-large", 502, 2],
			["m-large", 200, 1],
			["m-large", 429, 1],
			["=cmd()", 200, 2],
		]);
		const three = await rows("group_by=tenant,model,hour");
		expect(three.every((r) => "tenant_id" in r && "model" in r && "bucket" in r)).toBe(true);
		for (const bad of ["key,model,status,tenant", "hour,day", "key,key", "color"]) {
			const r = await usage(`group_by=${bad}`);
			expect(r.status).toBe(400);
			expect(r.json.error).toMatchObject({ code: "PLATFORM_INVALID_REQUEST", param: "group_by" });
		}
	});

	test("hour and minute buckets are UTC starts; minute buckets are bounded to 7 days", async () => {
		const hours = await rows(`group_by=hour&since=${today}&key_id=key_a`);
		expect(hours.map((r) => [r.bucket, r.requests])).toEqual([[new Date(today + HOUR).toISOString(), 10]]);
		const minutes = await rows(`group_by=minute&since=${today}&until=${today + 2 * HOUR}&key_id=key_a`);
		expect(minutes.length).toBe(10);
		expect(minutes[0].bucket).toBe(new Date(today + HOUR).toISOString());
		expect(minutes[9].bucket).toBe(new Date(today + HOUR + 9 * 60_000).toISOString());
		for (const qs of ["group_by=minute", "group_by=minute&since=8d", `group_by=key,minute&since=0&until=${9 * DAY}`]) {
			const r = await usage(qs);
			expect(r.status).toBe(400);
			expect(r.json.error.param).toBe("since");
			expect(r.json.error.request_id).toBeString();
		}
		expect((await usage("group_by=minute&since=7d")).status).toBe(200);
	});

	test("latency and TTFT p50/p95/p99 (TTFT over the rows that have one)", async () => {
		const [a] = await rows(`key_id=key_a&since=${today}`);
		// latencies 10..100 and ttft 1..10, linear interpolation
		expect(a.latency_ms_p50).toBeCloseTo(55, 6);
		expect(a.latency_ms_p95).toBeCloseTo(95.5, 6);
		expect(a.latency_ms_p99).toBeCloseTo(99.1, 6);
		expect(a.ttft_ms_p50).toBeCloseTo(5.5, 6);
		expect(a.ttft_ms_p95).toBeCloseTo(9.55, 6);
		expect(a.ttft_ms_p99).toBeCloseTo(9.91, 6);
		const [b] = await rows("key_id=key_b");
		expect(b.ttft_ms_p50).toBeNull();
	});

	test("unknown cost: counted in unpriced_requests; cost_usd null only when nothing is priced", async () => {
		const data = await rows("group_by=model&key_id=key_b");
		expect(data.find((r) => r.model === "=cmd()")).toMatchObject({ unpriced_requests: 2, cost_usd: null });
		expect(data.find((r) => r.model === "m-large")).toMatchObject({ unpriced_requests: 0, cost_usd: 8 });
		expect((await rows("key_id=key_b"))[0]).toMatchObject({ unpriced_requests: 2, cost_usd: 8 });
	});

	test("CSV with a header row, by format=csv or Accept: text/csv; formulas defused", async () => {
		const r = await usage("group_by=key,model&format=csv");
		expect(r.status).toBe(200);
		expect(r.headers.get("content-type")).toStartWith("text/csv");
		expect(r.headers.get("x-truncated")).toBe("false");
		const lines = r.text.trimEnd().split("\r\n");
		expect(lines[0]).toBe(
			"key_id,model,requests,errors,unpriced_requests,prompt_tokens,completion_tokens,total_tokens,cost_usd,latency_ms_p50,latency_ms_p95,latency_ms_p99,ttft_ms_p50,ttft_ms_p95,ttft_ms_p99",
		);
		expect(lines.length).toBe(4);
		expect(lines).toContain("key_b,'=cmd(),2,0,2,20,10,30,,100,100,100,,,");
		const viaAccept = await usage("group_by=key,model", { accept: "text/csv" });
		expect(viaAccept.text).toBe(r.text);
		expect((await usage("format=xml")).json.error.param).toBe("format");
	});

	test("unknown or repeated query parameters are a 400 naming them", async () => {
		const r = await usage("group_by=key&keyid=key_a&colour=red");
		expect(r.status).toBe(400);
		expect(r.json.error.code).toBe("PLATFORM_INVALID_REQUEST");
		expect(r.json.error.param).toBe("keyid");
		expect(r.json.error.message).toContain("'keyid', 'colour'");
		const twice = await usage("key_id=key_a&key_id=key_b");
		expect(twice.status).toBe(400);
		expect(twice.json.error.param).toBe("key_id");
		expect((await admin.call("GET", "/logs?keyid=x")).json.error.param).toBe("keyid");
		expect((await admin.call("GET", "/keys?tenant=x")).json.error.param).toBe("tenant");
		expect((await usage("status=teapot")).json.error.param).toBe("status");
		expect((await usage("since=soon")).json.error.param).toBe("since");
	});

	test(`more than ${USAGE_MAX_ROWS} groups: the first ${USAGE_MAX_ROWS} and truncated: true`, async () => {
		const bulk = Array.from({ length: USAGE_MAX_ROWS + 1 }, (_, i) =>
			makeUsageEvent({ request_id: `bulk_${i}`, ts: today + 3 * HOUR, key_id: `key_bulk_${i}`, tenant_id: "bulk" }),
		);
		await insertRequestLogs(t.db.sql, bulk);
		const r = await usage("group_by=key&tenant_id=bulk");
		expect(r.json.truncated).toBe(true);
		expect(r.json.data.length).toBe(USAGE_MAX_ROWS);
		expect((await usage("group_by=key&tenant_id=bulk&format=csv")).headers.get("x-truncated")).toBe("true");
	}, 60_000);
});
