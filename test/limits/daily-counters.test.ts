import { describe, expect, test } from "bun:test";
import { utcDay } from "../../src/limits/budget-periods.ts";
import { DailyCounters } from "../../src/limits/daily-counters.ts";
import { LimitTable } from "../../src/limits/limit-table.ts";

const DAY = 86_400_000;
const NOON = Date.UTC(2025, 5, 1, 12);

function setup() {
	const table = new LimitTable({ capacity: 16 });
	return { daily: new DailyCounters(table), slot: table.slotFor("key") };
}

const one = { requests: 1, tokens: 100, usd: 0.01 };

describe("DailyCounters", () => {
	test("counts requests, tokens and spend", () => {
		const { daily, slot } = setup();
		const r = daily.reserve(slot, one, {}, NOON);
		expect(r).toEqual({
			ok: true,
			reservation: {
				day: utcDay(NOON),
				requests: 1,
				tokens: 100,
				microUsd: 10_000,
				periodStart: -1,
			},
		});
		expect(daily.read(slot, NOON)).toEqual({
			day: utcDay(NOON),
			requests: 1,
			tokens: 100,
			spentMicroUsd: 10_000,
		});
	});

	test("counts stay exact into the tens of billions, and a day far ahead (2140) still stamps", () => {
		const { daily, slot } = setup();
		const big = { requests: 1, tokens: 40_000_000_001, usd: 12_345.678901 };
		for (const now of [NOON, Date.UTC(2140, 0, 1, 12)]) {
			daily.reserve(slot, big, {}, now);
			daily.reserve(slot, big, {}, now);
			const r = daily.read(slot, now);
			expect(r.day).toBe(utcDay(now));
			expect(r.requests).toBe(2);
			expect(r.tokens).toBe(80_000_000_002);
		}
		// lifetime spend in micro-USD: 4 × 12,345.678901 USD
		expect(daily.read(slot, NOON).spentMicroUsd).toBe(4 * 12_345_678_901);
	});

	test("refuses at the daily request quota and says when it resets", () => {
		const { daily, slot } = setup();
		const limits = { quota_daily_requests: 3 };
		for (let i = 0; i < 3; i++) expect(daily.reserve(slot, one, limits, NOON).ok).toBe(true);
		expect(daily.reserve(slot, one, limits, NOON)).toEqual({
			ok: false,
			failed: "daily_requests",
			retryAfterMs: DAY / 2,
		});
	});

	test("a refused token reservation gives the request back", () => {
		const { daily, slot } = setup();
		const limits = { quota_daily_tokens: 250 };
		expect(daily.reserve(slot, one, limits, NOON).ok).toBe(true);
		expect(daily.reserve(slot, one, limits, NOON).ok).toBe(true);
		expect(daily.reserve(slot, one, limits, NOON)).toMatchObject({
			ok: false,
			failed: "daily_tokens",
		});
		expect(daily.read(slot, NOON)).toMatchObject({ requests: 2, tokens: 200 });
	});

	test("budget is lifetime and a refusal undoes the daily counts", () => {
		const { daily, slot } = setup();
		const limits = { budget_usd: 0.025 };
		expect(daily.reserve(slot, one, limits, NOON).ok).toBe(true);
		expect(daily.reserve(slot, one, limits, NOON).ok).toBe(true);
		expect(daily.reserve(slot, one, limits, NOON)).toEqual({
			ok: false,
			failed: "budget",
			retryAfterMs: 0,
		});
		expect(daily.read(slot, NOON)).toMatchObject({
			requests: 2,
			tokens: 200,
			spentMicroUsd: 20_000,
		});
		// A new day resets requests and tokens but not the budget.
		expect(daily.reserve(slot, one, limits, NOON + DAY)).toMatchObject({
			failed: "budget",
		});
		expect(daily.read(slot, NOON + DAY)).toEqual({
			day: utcDay(NOON) + 1,
			requests: 0,
			tokens: 0,
			spentMicroUsd: 20_000,
		});
	});

	test("rolls over at UTC midnight", () => {
		const { daily, slot } = setup();
		const limits = { quota_daily_requests: 2 };
		const beforeMidnight = utcDay(NOON) * DAY + DAY - 1;
		expect(daily.reserve(slot, one, limits, beforeMidnight).ok).toBe(true);
		expect(daily.reserve(slot, one, limits, beforeMidnight).ok).toBe(true);
		expect(daily.reserve(slot, one, limits, beforeMidnight)).toMatchObject({
			ok: false,
			retryAfterMs: 1,
		});
		expect(daily.reserve(slot, one, limits, beforeMidnight + 1).ok).toBe(true);
		expect(daily.read(slot, beforeMidnight + 1)).toMatchObject({
			requests: 1,
			tokens: 100,
		});
	});

	test("settle moves tokens and spend to the real usage, both ways", () => {
		const { daily, slot } = setup();
		const limits = { quota_daily_tokens: 1000, budget_usd: 1 };
		const a = daily.reserve(slot, { requests: 1, tokens: 500, usd: 0.5 }, limits, NOON);
		if (!a.ok) throw new Error("expected ok");
		daily.settle(slot, a.reservation, { tokens: 120, usd: 0.1 });
		expect(daily.read(slot, NOON)).toMatchObject({
			tokens: 120,
			spentMicroUsd: 100_000,
		});
		const b = daily.reserve(slot, { requests: 1, tokens: 100, usd: 0.1 }, limits, NOON);
		if (!b.ok) throw new Error("expected ok");
		// Real usage above the estimate is charged in full, even past the limit.
		daily.settle(slot, b.reservation, { tokens: 1500, usd: 1.2 });
		expect(daily.read(slot, NOON)).toMatchObject({
			tokens: 1620,
			spentMicroUsd: 1_300_000,
		});
		expect(daily.reserve(slot, { requests: 1, tokens: 0, usd: 0 }, limits, NOON)).toMatchObject({
			failed: "daily_tokens",
		});
	});

	test("settling after midnight leaves the new day's counts alone", () => {
		const { daily, slot } = setup();
		const r = daily.reserve(slot, { requests: 1, tokens: 500, usd: 0 }, {}, NOON);
		if (!r.ok) throw new Error("expected ok");
		daily.reserve(slot, { requests: 1, tokens: 10, usd: 0 }, {}, NOON + DAY);
		daily.settle(slot, r.reservation, { tokens: 5000, usd: 0 });
		expect(daily.read(slot, NOON + DAY)).toMatchObject({
			requests: 1,
			tokens: 10,
		});
	});

	test("restore seeds today's counts and the lifetime spend, taking the max", () => {
		const { daily, slot } = setup();
		daily.reserve(slot, { requests: 1, tokens: 10, usd: 0 }, {}, NOON);
		daily.restore(slot, { day: utcDay(NOON), requests: 40, tokens: 5, spentMicroUsd: 7_000_000 }, NOON);
		expect(daily.read(slot, NOON)).toEqual({
			day: utcDay(NOON),
			requests: 40,
			tokens: 10,
			spentMicroUsd: 7_000_000,
		});
		// Yesterday's counts are ignored; spend is still restored.
		const other = setup();
		other.daily.restore(other.slot, { day: utcDay(NOON) - 1, requests: 40, tokens: 5, spentMicroUsd: 3 }, NOON);
		expect(other.daily.read(other.slot, NOON)).toMatchObject({
			requests: 0,
			tokens: 0,
			spentMicroUsd: 3,
		});
	});
});
