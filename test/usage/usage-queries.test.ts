import { beforeAll, describe, expect, test } from "bun:test";
import { queryLogs, queryUsage } from "../../src/admin/usage-queries.ts";
import { GatewayError } from "../../src/errors/gateway-error.ts";
import { PriceBook } from "../../src/usage/cost.ts";
import { insertRequestLogs } from "../../src/usage/insert-request-logs.ts";
import { useTestDatabase } from "../support/test-database.ts";
import { makeUsageEvent } from "../support/usage-events.ts";

const t = useTestDatabase();
const HOUR = 3_600_000;
// Today 01:00 UTC: inside the partitions migrations create.
const base = Math.floor(Date.now() / 86_400_000) * 86_400_000 + HOUR;

beforeAll(async () => {
	const events = [];
	for (let i = 0; i < 30; i++) {
		events.push(
			makeUsageEvent({
				request_id: `q_${String(i).padStart(2, "0")}`,
				ts: base + (i % 3) * HOUR + i * 1000,
				key_id: i % 2 === 0 ? "key_even" : "key_odd",
				model: i < 20 ? "gpt-4o-mini" : "claude-sonnet",
				provider: i < 20 ? "openai" : "anthropic",
				status: i % 10 === 9 ? 502 : 200,
				latency_ms: (i + 1) * 10,
				prompt_tokens: 100,
				completion_tokens: 10,
				total_tokens: 110,
				cost_usd: 0.5,
			}),
		);
	}
	// Two rows sharing one ts: the cursor must page through ties by request_id.
	events.push(
		makeUsageEvent({
			request_id: "tie_a",
			ts: base - HOUR,
			key_id: "key_tie",
			model: "tie-model",
		}),
	);
	events.push(
		makeUsageEvent({
			request_id: "tie_b",
			ts: base - HOUR,
			key_id: "key_tie",
			model: "tie-model",
		}),
	);
	await insertRequestLogs(t.db.sql, events);
}, 30_000);

const expectInvalid = async (p: Promise<unknown>, param: string) => {
	const err = await p.then(
		() => null,
		(e) => e,
	);
	expect(err).toBeInstanceOf(GatewayError);
	expect((err as GatewayError).code).toBe("PLATFORM_INVALID_REQUEST");
	expect((err as GatewayError).param).toBe(param);
};

describe("queryLogs", () => {
	test("pages newest first through every row exactly once", async () => {
		const seen: string[] = [];
		let cursor: string | undefined;
		let pages = 0;
		do {
			const page = await queryLogs(t.db, { limit: 7, cursor });
			seen.push(...page.data.map((r) => r.request_id));
			for (let i = 1; i < page.data.length; i++)
				expect(Date.parse(page.data[i - 1].ts)).toBeGreaterThanOrEqual(Date.parse(page.data[i].ts));
			cursor = page.next_cursor ?? undefined;
			pages++;
		} while (cursor);
		expect(seen.length).toBe(32);
		expect(new Set(seen).size).toBe(32);
		expect(pages).toBe(5);
		expect(seen.slice(-2).sort()).toEqual(["tie_a", "tie_b"]);
	});

	test("filters by key, model, status and time", async () => {
		const odd = await queryLogs(t.db.sql, { key_id: "key_odd", limit: 500 });
		expect(odd.data.length).toBe(15);
		expect(odd.next_cursor).toBeNull();
		const claude = await queryLogs(t.db, { model: "claude-sonnet" });
		expect(claude.data.length).toBe(10);
		const errors = await queryLogs(t.db, { status: "502" });
		expect(errors.data.map((r) => r.request_id).sort()).toEqual(["q_09", "q_19", "q_29"]);
		const window = await queryLogs(t.db, {
			since: new Date(base + 2 * HOUR).toISOString(),
			until: base + 3 * HOUR,
		});
		expect(window.data.length).toBe(10);
		expect(window.data[0].cost_usd).toBe(0.5);
		expect(typeof window.data[0].prompt_tokens).toBe("number");
	});

	test("rejects bad input with PLATFORM_INVALID_REQUEST", async () => {
		await expectInvalid(queryLogs(t.db, { limit: 501 }), "limit");
		await expectInvalid(queryLogs(t.db, { since: "yesterday-ish" }), "since");
		await expectInvalid(queryLogs(t.db, { cursor: "not-a-cursor" }), "cursor");
		await expectInvalid(queryLogs(t.db, { status: "abc" }), "status");
	});
});

describe("queryUsage", () => {
	test("groups by model with errors, tokens, cost and latency percentiles", async () => {
		const { data } = await queryUsage(t.db, { group_by: "model", since: base - 10 * HOUR });
		const mini = data.find((r) => r.model === "gpt-4o-mini");
		expect(mini).toMatchObject({
			requests: 20,
			errors: 2,
			prompt_tokens: 2000,
			completion_tokens: 200,
			total_tokens: 2200,
			unpriced_requests: 0,
		});
		expect(mini?.cost_usd).toBeCloseTo(10, 9);
		// latencies 10..200: p50 = 105, p95 = 190.5, p99 = 198.1 (linear interpolation)
		expect(mini?.latency_ms_p50).toBeCloseTo(105, 6);
		expect(mini?.latency_ms_p95).toBeCloseTo(190.5, 6);
		expect(mini?.latency_ms_p99).toBeCloseTo(198.1, 6);
		expect(mini?.ttft_ms_p50).toBeNull();
	});

	test("groups by key, provider and hour", async () => {
		const keys = await queryUsage(t.db, { group_by: "key" });
		expect(keys.data.map((r) => [r.key_id, r.requests]).sort()).toEqual([
			["key_even", 15],
			["key_odd", 15],
			["key_tie", 2],
		]);
		const hours = await queryUsage(t.db, { group_by: "hour", since: base, until: base + 3 * HOUR });
		expect(hours.data.map((r) => r.requests)).toEqual([10, 10, 10]);
		expect(hours.data[0].bucket).toBe(new Date(base).toISOString());
		const days = await queryUsage(t.db, { group_by: "day" });
		expect(days.data.reduce((n, r) => n + r.requests, 0)).toBe(32);
		const providers = await queryUsage(t.db, { group_by: "provider" });
		expect(providers.data.find((r) => r.provider === "anthropic")?.requests).toBe(10);
	});

	test("rejects an unknown group_by", async () => {
		await expectInvalid(queryUsage(t.db, { group_by: "color" }), "group_by");
		await expectInvalid(queryUsage(t.db, { group_by: "day", until: "31/12/2020" }), "until");
	});
});

describe("PriceBook.reload", () => {
	test("reads model_prices rows, which override the config", async () => {
		await t.db.sql`insert into model_prices (model, input_per_mtok, output_per_mtok, cached_input_per_mtok)
			values ('gpt-4o-mini', 1, 2, 0.5)`;
		const book = new PriceBook([{ model: "gpt-4o-mini", input: 0.15, output: 0.6 }]);
		await book.reload(t.db.sql);
		expect(book.lookup("openai/gpt-4o-mini")).toEqual({
			input: 1,
			output: 2,
			cached_input: 0.5,
			cache_write: null,
		});
	});
});
