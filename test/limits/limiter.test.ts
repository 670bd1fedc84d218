import { describe, expect, test } from "bun:test";
import { DailyCounters } from "../../src/limits/daily-counters.ts";
import { LimitTable } from "../../src/limits/limit-table.ts";
import { Limiter } from "../../src/limits/limiter.ts";

const NOW = Date.UTC(2025, 5, 1, 12);
const small = { tokens: 100, usd: 0.01 };

function setup(capacity = 16) {
	const table = new LimitTable({ capacity, epochMs: NOW - 1000 });
	return { table, limiter: new Limiter(table) };
}

describe("Limiter", () => {
	test("admits within limits and reports OpenAI headers", () => {
		const { limiter } = setup();
		const r = limiter.check("k", { rpm: 60, tpm: 1000 }, small, NOW);
		expect(r.ok).toBe(true);
		expect(r.headers).toEqual({
			"x-ratelimit-limit-requests": "60",
			"x-ratelimit-remaining-requests": "59",
			"x-ratelimit-reset-requests": "1s",
			"x-ratelimit-limit-tokens": "1000",
			"x-ratelimit-remaining-tokens": "900",
			"x-ratelimit-reset-tokens": "6s",
		});
	});

	test("no limits: admitted with no rate-limit headers", () => {
		const { limiter } = setup();
		const r = limiter.check("k", {}, small, NOW);
		expect(r).toMatchObject({ ok: true, headers: {} });
	});

	test("RPM refusal carries retry-after and leaves TPM untouched", () => {
		const { limiter } = setup();
		const limits = { rpm: 2, tpm: 1000 };
		expect(limiter.check("k", limits, small, NOW).ok).toBe(true);
		expect(limiter.check("k", limits, small, NOW).ok).toBe(true);
		const r = limiter.check("k", limits, small, NOW);
		expect(r).toMatchObject({
			ok: false,
			reason: "rpm",
			retryAfterMs: 30_000,
			retryable: true,
		});
		expect(r.headers["x-ratelimit-remaining-requests"]).toBe("0");
		expect(r.headers["x-ratelimit-remaining-tokens"]).toBe("800");
	});

	test("TPM refusal gives the request back", () => {
		const { limiter } = setup();
		const limits = { rpm: 10, tpm: 150 };
		expect(limiter.check("k", limits, small, NOW).ok).toBe(true);
		const r = limiter.check("k", limits, small, NOW);
		expect(r).toMatchObject({ ok: false, reason: "tpm", retryable: true });
		expect(r.headers["x-ratelimit-remaining-requests"]).toBe("9");
		expect(limiter.check("k", { rpm: 10 }, small, NOW).headers["x-ratelimit-remaining-requests"]).toBe("8");
	});

	test("an estimate above the TPM window reserves the whole window, settle charges the rest", () => {
		const { limiter } = setup();
		const r = limiter.check("k", { tpm: 1000 }, { tokens: 50_000, usd: 0 }, NOW);
		if (!r.ok) throw new Error("expected ok");
		limiter.settle(r.ticket, { tokens: 1500, usd: 0 }, NOW);
		const next = limiter.check("k", { tpm: 1000 }, { tokens: 1, usd: 0 }, NOW);
		expect(next).toMatchObject({ ok: false, reason: "tpm" });
		if (!next.ok) expect(next.retryAfterMs).toBe(30_060);
	});

	test("settle returns unused TPM", () => {
		const { limiter } = setup();
		const limits = { tpm: 1000 };
		const r = limiter.check("k", limits, { tokens: 900, usd: 0 }, NOW);
		if (!r.ok) throw new Error("expected ok");
		expect(limiter.check("k", limits, { tokens: 200, usd: 0 }, NOW)).toMatchObject({ reason: "tpm" });
		limiter.settle(r.ticket, { tokens: 100, usd: 0 }, NOW);
		limiter.settle(r.ticket, { tokens: 0, usd: 0 }, NOW); // once only
		const again = limiter.check("k", limits, { tokens: 200, usd: 0 }, NOW);
		expect(again.ok).toBe(true);
		expect(again.headers["x-ratelimit-remaining-tokens"]).toBe("700");
	});

	test("concurrency refusal gives back RPM and TPM; release frees the place once", () => {
		const { limiter } = setup();
		const limits = { rpm: 10, tpm: 1000, max_concurrency: 1 };
		const first = limiter.check("k", limits, small, NOW);
		if (!first.ok) throw new Error("expected ok");
		const second = limiter.check("k", limits, small, NOW);
		expect(second).toMatchObject({
			ok: false,
			reason: "concurrency",
			retryable: true,
		});
		expect(second.headers["x-ratelimit-remaining-requests"]).toBe("9");
		expect(second.headers["x-ratelimit-remaining-tokens"]).toBe("900");
		limiter.release(first.ticket);
		limiter.release(first.ticket);
		const third = limiter.check("k", limits, small, NOW);
		expect(third.ok).toBe(true);
		const fourth = limiter.check("k", limits, small, NOW);
		expect(fourth).toMatchObject({ ok: false, reason: "concurrency" });
	});

	test("checkOrWait waits in the concurrency queue", async () => {
		const { limiter } = setup();
		const limits = { max_concurrency: 1 };
		const first = limiter.check("k", limits, small, NOW);
		if (!first.ok) throw new Error("expected ok");
		const waiting = limiter.checkOrWait("k", limits, small, { waitMs: 5000 });
		expect(waiting).toBeInstanceOf(Promise); // full: it waits
		queueMicrotask(() => limiter.release(first.ticket));
		expect((await waiting).ok).toBe(true);
		expect((await limiter.checkOrWait("k", limits, small, { waitMs: 20 })).ok).toBe(false);
	});

	test("checkOrWait answers at once, without a promise, when a place is free", () => {
		const { limiter } = setup();
		const d = limiter.checkOrWait("k", { max_concurrency: 2, rpm: 10 }, small, { waitMs: 5000 });
		if (d instanceof Promise || !d.ok) throw new Error("expected a synchronous admission");
		expect(d.ticket.holdsConcurrency).toBe(true);
		expect(d.headers["x-ratelimit-remaining-requests"]).toBe("9");
		limiter.release(d.ticket);
	});

	test("daily and budget refusals undo everything before them and are not retryable", () => {
		const { table, limiter } = setup();
		const limits = {
			rpm: 10,
			tpm: 1000,
			max_concurrency: 5,
			quota_daily_requests: 1,
		};
		const a = limiter.check("k", limits, small, NOW);
		expect(a.ok).toBe(true);
		const b = limiter.check("k", limits, small, NOW);
		expect(b).toMatchObject({
			ok: false,
			reason: "daily_requests",
			retryable: false,
		});
		if (!b.ok) expect(b.retryAfterMs).toBe(12 * 3_600_000);
		expect(b.headers["x-ratelimit-remaining-requests"]).toBe("9");
		expect(b.headers["x-ratelimit-remaining-tokens"]).toBe("900");
		const c = limiter.check("k", { ...limits, quota_daily_requests: null, budget_usd: 0.025 }, small, NOW);
		expect(c.ok).toBe(true);
		const d = limiter.check("k", { budget_usd: 0.025 }, small, NOW);
		expect(d).toMatchObject({
			ok: false,
			reason: "budget",
			retryable: false,
			retryAfterMs: 0,
		});
		const slot = table.find("k");
		expect(new DailyCounters(table).read(slot, NOW)).toMatchObject({
			requests: 2,
			spentMicroUsd: 20_000,
		});
	});

	test("a zero limit refuses and is not retryable", () => {
		const { limiter } = setup();
		expect(limiter.check("k", { rpm: 0 }, small, NOW)).toMatchObject({
			reason: "rpm",
			retryable: false,
		});
		expect(limiter.check("k", { max_concurrency: 0 }, small, NOW)).toMatchObject({
			reason: "concurrency",
			retryable: false,
		});
	});

	test("settle moves daily tokens and spend to real usage", () => {
		const { table, limiter } = setup();
		const r = limiter.check("k", {}, { tokens: 1000, usd: 1 }, NOW);
		if (!r.ok) throw new Error("expected ok");
		limiter.settle(r.ticket, { tokens: 250, usd: 0.25 }, NOW);
		expect(new DailyCounters(table).read(table.find("k"), NOW)).toMatchObject({
			requests: 1,
			tokens: 250,
			spentMicroUsd: 250_000,
		});
	});

	test("restore makes earlier spend count against a budget", () => {
		const { limiter } = setup();
		limiter.restore("k", { day: 0, requests: 0, tokens: 0, spentMicroUsd: 5_000_000 }, NOW);
		expect(limiter.check("k", { budget_usd: 5 }, small, NOW)).toMatchObject({
			reason: "budget",
		});
	});

	test("a full table fails open", () => {
		const { limiter } = setup(2);
		limiter.check("a", {}, small, NOW);
		limiter.check("b", {}, small, NOW);
		const r = limiter.check("c", { rpm: 0 }, small, NOW);
		expect(r.ok).toBe(true);
		if (r.ok) {
			expect(r.ticket.slot).toBe(-1);
			limiter.settle(r.ticket, small, NOW);
			limiter.release(r.ticket);
		}
	});
});
