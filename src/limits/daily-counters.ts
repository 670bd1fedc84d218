import type { NullableLimits } from "../config/limit-fields.ts";
import { DAY_MS, periodResetAt, periodStartDay, utcDay } from "./budget-periods.ts";
import { type LimitTable, SlotField } from "./limit-table.ts";

/**
 * Daily request and token counts, the lifetime budget spent and the spend of the current
 * budget period (day, week or month), per slot.
 *
 * Each daily counter is one 64-bit word holding `day · 2^37 + count` (UTC day since 1970 in 16
 * bits, good until 2149; count in 37 bits, 137 billion a day), so the day
 * stamp and the count change in the same CAS: a counter stamped with an older day reads as 0,
 * and the first update of a new day replaces stamp and count together (the rollover is
 * atomic without a separate reset step, and two workers crossing midnight cannot both reset or
 * lose each other's increments). Spent budget is a plain 64-bit micro-USD count (lifetime);
 * a periodic budget also counts into a word of the same form as the daily ones, stamped with
 * the UTC day its period began (37 bits of micro-USD: up to $137,000 per period).
 *
 * `reserve` checks-and-adds each counter with its own CAS loop (read, check, add), in the order
 * requests → tokens → budget, and undoes the earlier ones if a later one refuses. No counter can
 * pass its limit; a concurrent request may be refused by a reservation that is then undone,
 * which errs on the safe side. A reservation larger than a whole limit is cut to the limit (a
 * request asking for more than the quota holds it all rather than never passing); settling
 * then charges what was really used.
 */

/**
 * The word stays below 2^53, so `Number(word)` reads it exactly and packing is one
 * `BigInt(number)`: no BigInt shifts and masks (each an allocation) on the hot path.
 */
const COUNT_SCALE = 2 ** 37;
const MAX_COUNT = COUNT_SCALE - 1;
const pack = (day: number, count: number): bigint => BigInt(day * COUNT_SCALE + count);
const dayOf = (n: number): number => Math.floor(n / COUNT_SCALE);

export type DailyFailure = "daily_requests" | "daily_tokens" | "budget";

/** The limits these counters enforce; null / undefined = unlimited. */
export type DailyLimits = Pick<
	NullableLimits,
	"quota_daily_requests" | "quota_daily_tokens" | "budget_usd" | "budget_period"
>;

/**
 * True when `l` sets a daily quota, a budget or a budget period: limits whose counters need
 * the logged past.
 */
export function hasDailyLimit(l: Omit<DailyLimits, "budget_period"> & { budget_period?: unknown }): boolean {
	return (
		l.quota_daily_requests != null || l.quota_daily_tokens != null || l.budget_usd != null || l.budget_period != null
	);
}

export interface DailyAmounts {
	requests: number;
	tokens: number;
	usd: number;
}

/** What a successful `reserve` added, to be settled later. */
export interface DailyReservation {
	day: number;
	requests: number;
	tokens: number;
	microUsd: number;
	/** UTC day the budget period counted into began; -1 when the budget is for all time. */
	periodStart: number;
}

export type ReserveResult =
	| { ok: true; reservation: DailyReservation }
	| { ok: false; failed: DailyFailure; retryAfterMs: number };

export interface DailySnapshot {
	day: number;
	requests: number;
	tokens: number;
	/** Lifetime. */
	spentMicroUsd: number;
	/** Spend in the current budget period, when the subject's budget has one. */
	period?: { period: NonNullable<DailyLimits["budget_period"]>; spentMicroUsd: number };
}

export function usdToMicro(usd: number): number {
	return usd > 0 ? Math.round(usd * 1_000_000) : 0;
}

const atMost = (v: number, limit: number | null | undefined): number => (limit != null && v > limit ? limit : v);

export class DailyCounters {
	private readonly words: BigInt64Array;
	private readonly table: LimitTable;

	constructor(table: LimitTable) {
		this.table = table;
		this.words = table.words;
	}

	/** Atomically checks and adds `amounts` against `limits`; names the limit that refused. */
	reserve(slot: number, amounts: DailyAmounts, limits: DailyLimits, now: number = Date.now()): ReserveResult {
		const day = utcDay(now);
		const requests = Math.max(0, Math.ceil(amounts.requests));
		const budget = limits.budget_usd;
		const tokens = atMost(Math.max(0, Math.ceil(amounts.tokens)), limits.quota_daily_tokens);
		const budgetMicro = budget == null ? null : usdToMicro(budget);
		const microUsd = atMost(usdToMicro(amounts.usd), budgetMicro);
		const reqIdx = this.table.wordIndex(slot, SlotField.dailyRequests);
		const tokIdx = this.table.wordIndex(slot, SlotField.dailyTokens);
		const untilMidnight = (day + 1) * DAY_MS - now;

		const reqDay = this.addDaily(reqIdx, day, requests, limits.quota_daily_requests);
		if (reqDay < 0) {
			return {
				ok: false,
				failed: "daily_requests",
				retryAfterMs: untilMidnight,
			};
		}
		const tokDay = this.addDaily(tokIdx, day, tokens, limits.quota_daily_tokens);
		if (tokDay < 0) {
			this.addDaily(reqIdx, reqDay, -requests, null);
			return { ok: false, failed: "daily_tokens", retryAfterMs: untilMidnight };
		}
		const period = limits.budget_period;
		let periodStart = -1;
		if (period) {
			// the period's word holds the budget; the lifetime word below only counts
			const idx = this.table.wordIndex(slot, SlotField.periodMicroUsd);
			periodStart = this.addDaily(idx, periodStartDay(period, day), microUsd, budgetMicro);
			if (periodStart < 0) {
				this.addDaily(reqIdx, reqDay, -requests, null);
				this.addDaily(tokIdx, tokDay, -tokens, null);
				return { ok: false, failed: "budget", retryAfterMs: (periodResetAt(period, now) as number) - now };
			}
			this.addSpent(slot, microUsd, null);
		} else if (!this.addSpent(slot, microUsd, budgetMicro)) {
			this.addDaily(reqIdx, reqDay, -requests, null);
			this.addDaily(tokIdx, tokDay, -tokens, null);
			// A lifetime budget does not come back by waiting.
			return { ok: false, failed: "budget", retryAfterMs: 0 };
		}
		return {
			ok: true,
			reservation: { day: tokDay, requests, tokens, microUsd, periodStart },
		};
	}

	/**
	 * Moves a reservation to the real usage: tokens and cost go up without failing when the
	 * estimate was low and come back when it was high. Daily deltas are dropped if the day has
	 * turned since the reservation (yesterday's counters are gone). Idempotence is the
	 * caller's job (the limiter's ticket settles once).
	 */
	settle(
		slot: number,
		reservation: DailyReservation,
		actual: { tokens: number; usd: number; requests?: number },
	): void {
		const dt = Math.max(0, Math.ceil(actual.tokens)) - reservation.tokens;
		if (dt !== 0) {
			this.addDaily(this.table.wordIndex(slot, SlotField.dailyTokens), reservation.day, dt, null, true);
		}
		if (actual.requests !== undefined) {
			const dr = Math.max(0, Math.ceil(actual.requests)) - reservation.requests;
			if (dr !== 0) {
				this.addDaily(this.table.wordIndex(slot, SlotField.dailyRequests), reservation.day, dr, null, true);
			}
		}
		const du = usdToMicro(actual.usd) - reservation.microUsd;
		if (du !== 0) {
			this.addSpent(slot, du, null);
			if (reservation.periodStart >= 0) {
				const idx = this.table.wordIndex(slot, SlotField.periodMicroUsd);
				this.addDaily(idx, reservation.periodStart, du, null, true);
			}
		}
	}

	/**
	 * Seeds counters at startup from the request log. Takes the max of what is there and what
	 * is restored, so a late or repeated restore never double counts requests already served.
	 * Daily values for a day other than `now`'s are ignored.
	 */
	restore(slot: number, snapshot: DailySnapshot, now: number = Date.now()): void {
		if (snapshot.day === utcDay(now)) {
			this.maxDaily(this.table.wordIndex(slot, SlotField.dailyRequests), snapshot.day, snapshot.requests);
			this.maxDaily(this.table.wordIndex(slot, SlotField.dailyTokens), snapshot.day, snapshot.tokens);
		}
		if (snapshot.period) {
			const idx = this.table.wordIndex(slot, SlotField.periodMicroUsd);
			this.maxDaily(idx, periodStartDay(snapshot.period.period, utcDay(now)), snapshot.period.spentMicroUsd);
		}
		const i = this.table.wordIndex(slot, SlotField.spentMicroUsd);
		const want = BigInt(Math.max(0, Math.round(snapshot.spentMicroUsd)));
		for (;;) {
			const cur = Atomics.load(this.words, i);
			if (cur >= want || Atomics.compareExchange(this.words, i, cur, want) === cur) return;
		}
	}

	/** Today's counts, lifetime spend, and the spend of `period`'s current period. */
	read(slot: number, now: number = Date.now(), period?: DailyLimits["budget_period"]): DailySnapshot {
		const day = utcDay(now);
		const out: DailySnapshot = {
			day,
			requests: this.countOn(this.table.wordIndex(slot, SlotField.dailyRequests), day),
			tokens: this.countOn(this.table.wordIndex(slot, SlotField.dailyTokens), day),
			spentMicroUsd: Number(Atomics.load(this.words, this.table.wordIndex(slot, SlotField.spentMicroUsd))),
		};
		if (period) {
			const idx = this.table.wordIndex(slot, SlotField.periodMicroUsd);
			out.period = { period, spentMicroUsd: this.countOn(idx, periodStartDay(period, day)) };
		}
		return out;
	}

	/**
	 * Adds `delta` to a daily counter for `day` and answers the day it counted on (-1 when
	 * refused). With a limit, refuses if the
	 * result would pass it or the limit is already reached. A counter stamped with an older day
	 * starts from 0; with `sameDayOnly` (settling, undoing) a counter that has moved to another
	 * day is left alone.
	 */
	private addDaily(
		i: number,
		day: number,
		delta: number,
		limit: number | null | undefined,
		sameDayOnly = delta < 0,
	): number {
		for (;;) {
			const word = Atomics.load(this.words, i);
			const n = Number(word);
			const stamped = dayOf(n);
			if (stamped !== day && sameDayOnly) return day;
			// A worker whose clock already crossed midnight wins: count into its (later) day.
			const on = Math.max(stamped, day);
			const count = stamped === on ? n - stamped * COUNT_SCALE : 0;
			const next = count + delta;
			if (limit != null && delta >= 0 && (next > limit || count >= limit)) return -1;
			const clamped = next < 0 ? 0 : Math.min(next, MAX_COUNT);
			const packed = pack(on, clamped);
			if (Atomics.compareExchange(this.words, i, word, packed) === word) return on;
		}
	}

	private maxDaily(i: number, day: number, value: number): void {
		const want = Math.min(MAX_COUNT, Math.max(0, Math.round(value)));
		for (;;) {
			const word = Atomics.load(this.words, i);
			const n = Number(word);
			const stamped = dayOf(n);
			if (stamped > day) return;
			if (stamped === day && n - stamped * COUNT_SCALE >= want) return;
			const packed = pack(day, want);
			if (Atomics.compareExchange(this.words, i, word, packed) === word) return;
		}
	}

	private countOn(i: number, day: number): number {
		const n = Number(Atomics.load(this.words, i));
		return dayOf(n) === day ? n - day * COUNT_SCALE : 0;
	}

	/** Adds micro-USD to the lifetime spend; with a limit, refuses past it. Never below 0. */
	private addSpent(slot: number, delta: number, limitMicro: number | null): boolean {
		const i = this.table.wordIndex(slot, SlotField.spentMicroUsd);
		if (limitMicro === null) {
			if (delta >= 0) {
				Atomics.add(this.words, i, BigInt(delta));
				return true;
			}
		}
		for (;;) {
			const cur = Atomics.load(this.words, i);
			// micro-USD below 2^53 ($9 billion): exact as a number
			const spent = Number(cur);
			if (limitMicro !== null && delta >= 0) {
				if (spent >= limitMicro || spent + delta > limitMicro) return false;
			}
			const next = BigInt(Math.max(0, spent + delta));
			if (Atomics.compareExchange(this.words, i, cur, next) === cur) return true;
		}
	}
}
