/**
 * Helper for limits-race.test.ts: one thread hammering the shared limit table. Waits on a
 * start barrier in the control buffer so every worker begins at the same instant.
 */
import { ConcurrencyCounters } from "../../src/limits/concurrency.ts";
import { DailyCounters } from "../../src/limits/daily-counters.ts";
import { LimitTable } from "../../src/limits/limit-table.ts";
import { Limiter } from "../../src/limits/limiter.ts";
import { TokenBucket } from "../../src/limits/token-bucket.ts";

declare const self: Worker;

export type RaceMode =
	| "bucket"
	| "bucket-live"
	| "budget"
	| "daily-requests"
	| "limiter"
	| "concurrency"
	| "insert"
	| "release";

export interface RaceJob {
	mode: RaceMode;
	buffer: SharedArrayBuffer;
	/** Int32 cells: [0] workers ready, [1] go flag, [2] in-section now, [3] peak in-section. */
	control: SharedArrayBuffer;
	worker: number;
	iterations: number;
	now: number;
}

export interface RaceResult {
	admitted: number;
	slots?: number[];
}

self.onmessage = (event: MessageEvent<RaceJob>) => {
	const job = event.data;
	const control = new Int32Array(job.control);
	const table = LimitTable.fromBuffer(job.buffer);
	Atomics.add(control, 0, 1);
	Atomics.notify(control, 0);
	Atomics.wait(control, 1, 0);
	self.postMessage(run(job, table, control));
};

function run(job: RaceJob, table: LimitTable, control: Int32Array): RaceResult {
	let admitted = 0;
	const n = job.iterations;
	switch (job.mode) {
		case "bucket": {
			const bucket = new TokenBucket(table, "tpm");
			const slot = table.slotFor("race-bucket");
			for (let i = 0; i < n; i++) if (bucket.tryTake(slot, 1, 10_000, 10_000 / 60_000, job.now).ok) admitted++;
			break;
		}
		case "bucket-live": {
			const bucket = new TokenBucket(table, "rpm");
			const slot = table.slotFor("race-live");
			for (let i = 0; i < n; i++) if (bucket.tryTake(slot, 1, 1000, 1000 / 60_000, Date.now()).ok) admitted++;
			break;
		}
		case "budget": {
			const daily = new DailyCounters(table);
			const slot = table.slotFor("race-budget");
			for (let i = 0; i < n; i++) {
				const r = daily.reserve(slot, { requests: 1, tokens: 0, usd: 0.000_001 }, { budget_usd: 0.01 }, job.now);
				if (r.ok) admitted++;
			}
			break;
		}
		case "daily-requests": {
			const daily = new DailyCounters(table);
			const slot = table.slotFor("race-daily");
			const limits = {
				quota_daily_requests: 7777,
				quota_daily_tokens: 1_000_000,
			};
			for (let i = 0; i < n; i++) {
				if (daily.reserve(slot, { requests: 1, tokens: 3, usd: 0 }, limits, job.now).ok) admitted++;
			}
			break;
		}
		case "limiter": {
			const limiter = new Limiter(table);
			const limits = {
				rpm: 5000,
				tpm: 1_000_000,
				max_concurrency: 1000,
				budget_usd: 100,
			};
			for (let i = 0; i < n; i++) {
				const r = limiter.check("race-limiter", limits, { tokens: 10, usd: 0.001 }, job.now);
				if (r.ok) {
					admitted++;
					limiter.settle(r.ticket, { tokens: 10, usd: 0.001 }, job.now);
					limiter.release(r.ticket);
				}
			}
			break;
		}
		case "concurrency": {
			const cc = new ConcurrencyCounters(table);
			const slot = table.slotFor("race-concurrency");
			for (let i = 0; i < n; i++) {
				if (!cc.tryAcquire(slot, 3)) continue;
				admitted++;
				const inside = Atomics.add(control, 2, 1) + 1;
				for (;;) {
					const peak = Atomics.load(control, 3);
					if (inside <= peak || Atomics.compareExchange(control, 3, peak, inside) === peak) break;
				}
				Atomics.sub(control, 2, 1);
				cc.release(slot);
			}
			break;
		}
		case "release": {
			// Frees the place the main thread holds; records when, to time the wake-up.
			const slot = table.slotFor("race-wake");
			Atomics.store(control, 2, 1);
			new ConcurrencyCounters(table).release(slot);
			return {
				admitted: job.worker === 0 ? performance.timeOrigin + performance.now() : 0,
			};
		}
		case "insert": {
			const slots: number[] = new Array(n);
			// Each worker walks the subjects in a different order.
			for (let k = 0; k < n; k++) {
				const step = job.worker % 2 === 0 ? k : n - 1 - k;
				const i = (step + Math.floor((job.worker * n) / 4)) % n;
				slots[i] = table.slotFor(`subject-${i}`);
			}
			return { admitted: n, slots };
		}
	}
	return { admitted };
}
