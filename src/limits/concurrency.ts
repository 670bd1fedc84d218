import { type LimitTable, SlotField } from "./limit-table.ts";

/**
 * Per-slot in-flight counters shared by all workers. Each slot has two Int32 cells: the number
 * of requests in flight and the number of requests waiting for one to finish (the bounded
 * queue, counted across every worker).
 *
 * Waiting uses `Atomics.waitAsync` on the in-flight cell (checked to work in Bun 1.4.5, also
 * across Workers): `release` notifies one waiter. A woken waiter can still lose the slot to a
 * fresh request, and a waiter that gave up (abort) may swallow a wake-up, so each wait is cut
 * into slices of at most `WAIT_SLICE_MS` after which the waiter re-checks on its own.
 */

const WAIT_SLICE_MS = 50;
/** Default number of requests (across all workers) allowed to queue per slot. */
export const DEFAULT_MAX_QUEUE = 32;

export interface AcquireOptions {
	/** How long to wait for a free place before giving up. 0 = do not wait. */
	waitMs: number;
	/** Aborts the wait; a getter is called only when a wait is actually needed. */
	signal?: AbortSignal | (() => AbortSignal);
	/** Max requests waiting on this slot at once (all workers); beyond it fail at once. */
	maxQueue?: number;
}

export class ConcurrencyCounters {
	private readonly ints: Int32Array;
	private readonly table: LimitTable;

	constructor(table: LimitTable) {
		this.table = table;
		this.ints = table.ints;
	}

	/** Takes a place if fewer than `max` are in flight. */
	tryAcquire(slot: number, max: number): boolean {
		const i = this.cell(slot);
		for (;;) {
			const cur = Atomics.load(this.ints, i);
			if (cur >= max) return false;
			if (Atomics.compareExchange(this.ints, i, cur, cur + 1) === cur) return true;
		}
	}

	/** Gives a place back and wakes one waiter. Never drops below zero. */
	release(slot: number): void {
		const i = this.cell(slot);
		for (;;) {
			const cur = Atomics.load(this.ints, i);
			if (cur <= 0) return;
			if (Atomics.compareExchange(this.ints, i, cur, cur - 1) === cur) break;
		}
		if (Atomics.load(this.ints, i + 1) > 0) Atomics.notify(this.ints, i, 1);
	}

	inFlight(slot: number): number {
		return Atomics.load(this.ints, this.cell(slot));
	}

	waiting(slot: number): number {
		return Atomics.load(this.ints, this.cell(slot) + 1);
	}

	/**
	 * Takes a place, waiting up to `waitMs` in the slot's bounded queue. Resolves false when the
	 * wait times out, the queue is full, or `signal` aborts: the caller answers 429.
	 */
	async acquire(slot: number, max: number, options: AcquireOptions): Promise<boolean> {
		if (this.tryAcquire(slot, max)) return true;
		const { waitMs } = options;
		// resolved only when a wait is needed: a server request's signal costs to create
		const signal = typeof options.signal === "function" ? options.signal() : options.signal;
		if (waitMs <= 0 || signal?.aborted) return false;
		const i = this.cell(slot);
		const maxQueue = options.maxQueue ?? DEFAULT_MAX_QUEUE;
		if (!this.enqueue(i + 1, maxQueue)) return false;
		const deadline = performance.now() + waitMs;
		let onAbort: (() => void) | undefined;
		const aborted = signal
			? new Promise<"aborted">((resolve) => {
					onAbort = () => resolve("aborted");
					signal.addEventListener("abort", onAbort, { once: true });
				})
			: undefined;
		try {
			for (;;) {
				if (this.tryAcquire(slot, max)) return true;
				const left = deadline - performance.now();
				if (left <= 0 || signal?.aborted) return false;
				const cur = Atomics.load(this.ints, i);
				if (cur < max) continue;
				const waiter = Atomics.waitAsync(this.ints, i, cur, Math.min(left, WAIT_SLICE_MS));
				if (!waiter.async) continue;
				const outcome = aborted ? await Promise.race([waiter.value, aborted]) : await waiter.value;
				if (outcome === "aborted") return false;
			}
		} finally {
			Atomics.sub(this.ints, i + 1, 1);
			if (onAbort) signal?.removeEventListener("abort", onAbort);
		}
	}

	private enqueue(waitCell: number, maxQueue: number): boolean {
		for (;;) {
			const cur = Atomics.load(this.ints, waitCell);
			if (cur >= maxQueue) return false;
			if (Atomics.compareExchange(this.ints, waitCell, cur, cur + 1) === cur) return true;
		}
	}

	private cell(slot: number): number {
		return this.table.wordIndex(slot, SlotField.concurrency) * 2;
	}
}
