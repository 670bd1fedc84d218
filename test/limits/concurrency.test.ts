import { describe, expect, test } from "bun:test";
import { ConcurrencyCounters } from "../../src/limits/concurrency.ts";
import { LimitTable } from "../../src/limits/limit-table.ts";

function setup() {
	const table = new LimitTable({ capacity: 16 });
	return { cc: new ConcurrencyCounters(table), slot: table.slotFor("key") };
}

describe("ConcurrencyCounters", () => {
	test("tryAcquire stops at the limit; release frees a place and never goes negative", () => {
		const { cc, slot } = setup();
		expect(cc.tryAcquire(slot, 2)).toBe(true);
		expect(cc.tryAcquire(slot, 2)).toBe(true);
		expect(cc.tryAcquire(slot, 2)).toBe(false);
		cc.release(slot);
		expect(cc.inFlight(slot)).toBe(1);
		expect(cc.tryAcquire(slot, 2)).toBe(true);
		cc.release(slot);
		cc.release(slot);
		cc.release(slot);
		expect(cc.inFlight(slot)).toBe(0);
	});

	test("acquire waits for a release (Atomics.waitAsync) and gets the place", async () => {
		const { cc, slot } = setup();
		expect(cc.tryAcquire(slot, 1)).toBe(true);
		const waiting = cc.acquire(slot, 1, { waitMs: 5000 });
		expect(cc.waiting(slot)).toBe(1);
		const started = performance.now();
		queueMicrotask(() => cc.release(slot));
		expect(await waiting).toBe(true);
		expect(performance.now() - started).toBeLessThan(1000);
		expect(cc.inFlight(slot)).toBe(1);
		expect(cc.waiting(slot)).toBe(0);
	});

	test("acquire gives up after waitMs", async () => {
		const { cc, slot } = setup();
		cc.tryAcquire(slot, 1);
		const started = performance.now();
		expect(await cc.acquire(slot, 1, { waitMs: 80 })).toBe(false);
		expect(performance.now() - started).toBeGreaterThanOrEqual(75);
		expect(cc.waiting(slot)).toBe(0);
	});

	test("acquire without waiting, with an aborted signal, or a full queue fails at once", async () => {
		const { cc, slot } = setup();
		cc.tryAcquire(slot, 1);
		expect(await cc.acquire(slot, 1, { waitMs: 0 })).toBe(false);
		expect(await cc.acquire(slot, 1, { waitMs: 5000, signal: AbortSignal.abort() })).toBe(false);
		const queued = cc.acquire(slot, 1, { waitMs: 5000, maxQueue: 1 });
		expect(await cc.acquire(slot, 1, { waitMs: 5000, maxQueue: 1 })).toBe(false);
		cc.release(slot);
		expect(await queued).toBe(true);
	});

	test("abort ends a wait early", async () => {
		const { cc, slot } = setup();
		cc.tryAcquire(slot, 1);
		const controller = new AbortController();
		const waiting = cc.acquire(slot, 1, {
			waitMs: 10_000,
			signal: controller.signal,
		});
		controller.abort();
		expect(await waiting).toBe(false);
		expect(cc.waiting(slot)).toBe(0);
		expect(cc.inFlight(slot)).toBe(1);
	});

	test("queued waiters are served as places free up, never above the limit", async () => {
		const { cc, slot } = setup();
		cc.tryAcquire(slot, 2);
		cc.tryAcquire(slot, 2);
		let peak = 0;
		const waiters = [0, 1, 2, 3, 4].map(async () => {
			const ok = await cc.acquire(slot, 2, { waitMs: 5000 });
			peak = Math.max(peak, cc.inFlight(slot));
			await Promise.resolve();
			if (ok) cc.release(slot);
			return ok;
		});
		cc.release(slot);
		cc.release(slot);
		expect(await Promise.all(waiters)).toEqual([true, true, true, true, true]);
		expect(peak).toBeLessThanOrEqual(2);
		expect(cc.inFlight(slot)).toBe(0);
	});
});
