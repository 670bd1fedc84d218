import { type LimitTable, SlotField } from "./limit-table.ts";

/**
 * Token buckets (one per slot per kind: RPM or TPM) packed in one 64-bit word each, updated by a
 * compare-and-swap loop so the level and its refill clock always change together.
 *
 * Word layout (unsigned): `[ last: 36 bits, ms since table epoch ][ deficit: 28 bits ]`.
 *
 * - The bucket stores its *deficit* (capacity − level), not its level, so an all-zero word (a
 *   fresh slot) is a full bucket and a raised limit gives headroom at once.
 * - Units are whole requests / tokens. Refill is `floor(elapsed · rate)` units and the clock
 *   `last` moves forward only by the time those units took to accrue
 *   (`ceil(credited / rate)` ≤ elapsed), so fractional refill stays in the clock instead of being
 *   dropped. That makes sub-unit ("milli-token") storage unnecessary: slow buckets (rpm = 1)
 *   refill exactly, and the 28-bit field covers 268 M units per window.
 * - 36 bits of ms is 2.2 years from the table's creation; past that the clock saturates.
 *
 * No overshoot: every successful CAS starts from the exact word it replaces, so the successful
 * updates form one serial history. In it the deficit rises only by admitted cost and falls only
 * by credit; an admission needs `deficit + cost ≤ capacity`, and credit is at most
 * `rate · (advance of last)`. `last` never moves backwards (a bucket refilled to full restarts
 * its clock at `max(last, now)`, discarding the time it sat full), so over any interval
 * `admitted ≤ capacity + rate · (t1 − t0)`; with no time passing exactly
 * `floor(capacity / cost)` takes succeed. `forceTake` (settling a reservation upward) is the one
 * path allowed to push the deficit past capacity: later takes then wait until it is repaid.
 */

const DEFICIT_BITS = 28n;
const DEFICIT_MASK = (1n << DEFICIT_BITS) - 1n;
/** Largest deficit (and so capacity) a bucket can hold. */
export const MAX_BUCKET_UNITS = 2 ** 28 - 1;
const MAX_CLOCK = 2 ** 36 - 1;

export interface TakeResult {
	ok: boolean;
	/** Units left after this call (0 when refused). */
	remaining: number;
	/** Ms until the bucket is full again. */
	resetMs: number;
	/** Ms until `cost` could be taken (0 when ok; Infinity when cost > capacity). */
	retryAfterMs: number;
}

export type BucketKind = "rpm" | "tpm";

export class TokenBucket {
	private readonly words: BigInt64Array;
	private readonly table: LimitTable;
	private readonly field: number;
	private deficit = 0;
	private last = 0;

	constructor(table: LimitTable, kind: BucketKind) {
		this.table = table;
		this.words = table.words;
		this.field = kind === "rpm" ? SlotField.rpm : SlotField.tpm;
	}

	/**
	 * Takes `cost` units if the bucket holds them. `capacity` is the burst size, `refillPerMs`
	 * the refill rate in units per ms (e.g. rpm / 60 000), `now` wall-clock ms (Date.now()).
	 */
	tryTake(slot: number, cost: number, capacity: number, refillPerMs: number, now: number): TakeResult {
		const i = this.table.wordIndex(slot, this.field);
		const cap = Math.min(Math.floor(capacity), MAX_BUCKET_UNITS);
		const units = Math.ceil(cost);
		const t = this.clock(now);
		for (;;) {
			const word = Atomics.load(this.words, i);
			this.refill(word, t, refillPerMs);
			const deficit = this.deficit;
			let last = this.last;
			const level = cap - deficit;
			const pending = t > last ? t - last : 0;
			if (units > level) {
				const retryAfterMs =
					units > cap ? Number.POSITIVE_INFINITY : Math.max(1, Math.ceil((units - level) / refillPerMs) - pending);
				return {
					ok: false,
					remaining: Math.max(level, 0),
					resetMs: Math.max(0, Math.ceil(deficit / refillPerMs) - pending),
					retryAfterMs,
				};
			}
			if (deficit === 0 && t > last) last = t;
			const next = deficit + units;
			const packed = (BigInt(last) << DEFICIT_BITS) | BigInt(next);
			if (Atomics.compareExchange(this.words, i, word, packed) === word) {
				const afterLast = t > last ? t - last : 0;
				return {
					ok: true,
					remaining: cap - next,
					resetMs: Math.max(0, Math.ceil(next / refillPerMs) - afterLast),
					retryAfterMs: 0,
				};
			}
		}
	}

	/** The level as of `now`, without taking anything (for headers and metrics). */
	peek(slot: number, capacity: number, refillPerMs: number, now: number): { remaining: number; resetMs: number } {
		const cap = Math.min(Math.floor(capacity), MAX_BUCKET_UNITS);
		const t = this.clock(now);
		this.refill(Atomics.load(this.words, this.table.wordIndex(slot, this.field)), t, refillPerMs);
		const level = cap - this.deficit;
		const pending = t > this.last ? t - this.last : 0;
		return {
			remaining: Math.max(level, 0),
			resetMs: Math.max(0, Math.ceil(this.deficit / refillPerMs) - pending),
		};
	}

	/**
	 * Adds `amount` units of cost without checking the level: settling a reservation whose real
	 * cost beat its estimate. The bucket may go into debt; later takes wait for it.
	 */
	forceTake(slot: number, amount: number, now: number): void {
		if (amount <= 0) return;
		const i = this.table.wordIndex(slot, this.field);
		const t = this.clock(now);
		for (;;) {
			const word = Atomics.load(this.words, i);
			const deficit = Number(word & DEFICIT_MASK);
			let last = Number(word >> DEFICIT_BITS);
			// A full bucket's clock restarts now (it cannot bank refill while full).
			if (deficit === 0 && t > last) last = t;
			const next = Math.min(MAX_BUCKET_UNITS, deficit + Math.ceil(amount));
			const packed = (BigInt(last) << DEFICIT_BITS) | BigInt(next);
			if (Atomics.compareExchange(this.words, i, word, packed) === word) return;
		}
	}

	/**
	 * Returns `amount` units (a reservation settled downward, or a take undone because a later
	 * check failed). Never raises the level above capacity.
	 */
	giveBack(slot: number, amount: number): void {
		if (amount <= 0) return;
		const i = this.table.wordIndex(slot, this.field);
		const back = Math.floor(amount);
		for (;;) {
			const word = Atomics.load(this.words, i);
			const deficit = Number(word & DEFICIT_MASK);
			if (deficit === 0) return;
			const next = deficit > back ? deficit - back : 0;
			const packed = (word & ~DEFICIT_MASK) | BigInt(next);
			if (Atomics.compareExchange(this.words, i, word, packed) === word) return;
		}
	}

	/**
	 * Applies refill to an unpacked word, leaving the result in `deficit` / `last` (scratch
	 * fields, so the hot path allocates nothing but the BigInts themselves).
	 */
	private refill(word: bigint, t: number, refillPerMs: number): void {
		let deficit = Number(word & DEFICIT_MASK);
		let last = Number(word >> DEFICIT_BITS);
		if (deficit > 0 && t > last) {
			const credit = Math.floor((t - last) * refillPerMs);
			if (credit >= deficit) {
				deficit = 0;
				last = t;
			} else if (credit > 0) {
				deficit -= credit;
				// Only the time that produced whole units is consumed; the rest stays banked.
				last += Math.min(t - last, Math.ceil(credit / refillPerMs));
			}
		}
		this.deficit = deficit;
		this.last = last;
	}

	private clock(now: number): number {
		const t = Math.floor(now) - this.table.epochMs;
		return t < 0 ? 0 : Math.min(t, MAX_CLOCK);
	}
}
