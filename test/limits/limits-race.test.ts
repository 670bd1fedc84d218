import { describe, expect, test } from "bun:test";
import { ConcurrencyCounters } from "../../src/limits/concurrency.ts";
import { LimitTable } from "../../src/limits/limit-table.ts";
import type { RaceJob, RaceMode, RaceResult } from "./race-worker.ts";

const WORKERS = 4;
const NOW = Date.UTC(2025, 5, 1, 12);

/** Runs `mode` on 4 real threads sharing `table`, all released at once by a barrier. */
async function race(
	table: LimitTable,
	mode: RaceMode,
	iterations: number,
): Promise<{ results: RaceResult[]; peak: number; elapsedMs: number }> {
	const control = new Int32Array(new SharedArrayBuffer(16));
	const workers = Array.from({ length: WORKERS }, () => new Worker(new URL("./race-worker.ts", import.meta.url).href));
	try {
		const done = workers.map(
			(w) =>
				new Promise<RaceResult>((resolve, reject) => {
					w.onmessage = (e: MessageEvent<RaceResult>) => resolve(e.data);
					w.onerror = (e) => reject(e);
				}),
		);
		workers.forEach((w, worker) => {
			const job: RaceJob = {
				mode,
				buffer: table.buffer,
				control: control.buffer as SharedArrayBuffer,
				worker,
				iterations,
				now: NOW,
			};
			w.postMessage(job);
		});
		for (;;) {
			const ready = Atomics.load(control, 0);
			if (ready === WORKERS) break;
			await Atomics.waitAsync(control, 0, ready, 1000).value;
		}
		const started = Date.now();
		Atomics.store(control, 1, 1);
		Atomics.notify(control, 1);
		const results = await Promise.all(done);
		return {
			results,
			peak: Atomics.load(control, 3),
			elapsedMs: Date.now() - started,
		};
	} finally {
		for (const w of workers) w.terminate();
	}
}

const total = (results: RaceResult[]) => results.reduce((sum, r) => sum + r.admitted, 0);

describe("limits under a 4-thread race", () => {
	test("token bucket: exactly capacity admitted when demand exceeds it", async () => {
		const table = new LimitTable({ capacity: 1024 });
		const { results } = await race(table, "bucket", 5000);
		expect(total(results)).toBe(10_000);
		expect(table.stats().used).toBe(1);
	});

	test("token bucket on the live clock: never above capacity + refill", async () => {
		const table = new LimitTable({ capacity: 1024 });
		const { results, elapsedMs } = await race(table, "bucket-live", 20_000);
		const admitted = total(results);
		expect(admitted).toBeGreaterThanOrEqual(1000);
		expect(admitted).toBeLessThanOrEqual(1000 + Math.ceil(((elapsedMs + 50) * 1000) / 60_000));
	});

	test("budget: exactly the budget in micro-USD reserved", async () => {
		const table = new LimitTable({ capacity: 1024 });
		const { results } = await race(table, "budget", 5000);
		expect(total(results)).toBe(10_000);
	});

	test("daily request quota: exactly the quota admitted", async () => {
		const table = new LimitTable({ capacity: 1024 });
		const { results } = await race(table, "daily-requests", 5000);
		expect(total(results)).toBe(7777);
	});

	test("limiter: RPM binds exactly, nothing leaks from refusals", async () => {
		const table = new LimitTable({ capacity: 1024 });
		const { results } = await race(table, "limiter", 3000);
		expect(total(results)).toBe(5000);
		const cc = new ConcurrencyCounters(table);
		expect(cc.inFlight(table.find("race-limiter"))).toBe(0);
	});

	test("concurrency: never more than the limit inside at once", async () => {
		const table = new LimitTable({ capacity: 1024 });
		const { results, peak } = await race(table, "concurrency", 20_000);
		expect(total(results)).toBeGreaterThan(0);
		expect(peak).toBeLessThanOrEqual(3);
		expect(new ConcurrencyCounters(table).inFlight(table.find("race-concurrency"))).toBe(0);
	});

	test("a release on another thread wakes an Atomics.waitAsync waiter", async () => {
		const table = new LimitTable({ capacity: 1024 });
		const cc = new ConcurrencyCounters(table);
		const slot = table.slotFor("race-wake");
		// Four releasers, four places held: the waiter gets one of them back.
		for (let i = 0; i < 4; i++) expect(cc.tryAcquire(slot, 4)).toBe(true);
		const waiting = cc.acquire(slot, 4, { waitMs: 10_000 }).then((ok) => ({
			ok,
			at: performance.timeOrigin + performance.now(),
		}));
		const { results } = await race(table, "release", 1);
		const woke = await waiting;
		expect(woke.ok).toBe(true);
		expect(woke.at).toBeGreaterThanOrEqual(results[0].admitted - 5);
		expect(cc.inFlight(slot)).toBe(1);
	});

	test("hash table: concurrent inserts agree on every slot", async () => {
		const table = new LimitTable({ capacity: 4096 });
		const { results } = await race(table, "insert", 2000);
		const first = results[0].slots ?? [];
		for (const r of results) expect(r.slots).toEqual(first);
		expect(new Set(first).size).toBe(2000);
		expect(table.stats().used).toBe(2000);
	});
});
