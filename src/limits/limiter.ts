import type { NullableLimits } from "../config/limit-fields.ts";
import { type AcquireOptions, ConcurrencyCounters } from "./concurrency.ts";
import { DailyCounters, type DailyFailure, type DailyReservation, type DailySnapshot } from "./daily-counters.ts";
import type { LimitTable } from "./limit-table.ts";
import { type HeaderRecord, type RateLimitState, rateLimitHeaders } from "./rate-limit-headers.ts";
import { TokenBucket } from "./token-bucket.ts";

/**
 * The one entry point the request path uses for per-subject limits. Checks run in the order
 * RPM → TPM → concurrency → daily requests / tokens → budget; whatever an earlier check took is
 * given back when a later one refuses. Everything is arithmetic on the shared table: no locks,
 * no awaits (except `checkAsync`, which may wait in the concurrency queue).
 *
 * Limits: `null` / `undefined` = unlimited; 0 = nothing allowed. A subject the table has no room
 * for (see limit-table.ts) is let through unlimited: the table's `onFull` hook is the alarm.
 */

const MINUTE_MS = 60_000;
/** Retry hint for a concurrency refusal: places free up as requests finish, not on a clock. */
const CONCURRENCY_RETRY_MS = 1000;

/** A key's or tenant's limits; null / undefined = unlimited. */
export type SubjectLimits = NullableLimits;

export interface CostEstimate {
	tokens: number;
	usd: number;
}

export type LimitReason = "rpm" | "tpm" | "concurrency" | DailyFailure;

/** What a request holds between `check` and `settle` / `release`. */
export class LimitTicket {
	/** Tokens reserved in the TPM bucket (0 when TPM is not enforced). */
	tpmCost = 0;
	tpmEnforced = false;
	holdsConcurrency = false;
	daily: DailyReservation | null = null;
	settled = false;
	released = false;
	constructor(readonly slot: number) {}
}

export type LimitDecision =
	| { ok: true; ticket: LimitTicket; headers: HeaderRecord }
	| {
			ok: false;
			reason: LimitReason;
			/** Ms until a retry can pass (for `retry-after-ms`); 0 when waiting will not help. */
			retryAfterMs: number;
			/** False for exhausted quotas / budgets and zero limits: send `x-should-retry: false`. */
			retryable: boolean;
			headers: HeaderRecord;
	  };

export type AsyncCheckOptions = AcquireOptions;

type Refusal = Extract<LimitDecision, { ok: false }>;

export class Limiter {
	readonly table: LimitTable;
	private readonly rpm: TokenBucket;
	private readonly tpm: TokenBucket;
	private readonly concurrency: ConcurrencyCounters;
	private readonly daily: DailyCounters;

	constructor(table: LimitTable) {
		this.table = table;
		this.rpm = new TokenBucket(table, "rpm");
		this.tpm = new TokenBucket(table, "tpm");
		this.concurrency = new ConcurrencyCounters(table);
		this.daily = new DailyCounters(table);
	}

	/** Checks and takes every limit for one request, synchronously (a full subject is refused). */
	check(subjectKey: string, limits: SubjectLimits, estimate: CostEstimate, now: number = Date.now()): LimitDecision {
		// without a wait there is no promise: decide answers synchronously
		return this.decide(subjectKey, limits, estimate, null, now) as LimitDecision;
	}

	/**
	 * `check` for a subject with a concurrency limit that may wait: when a place is free (the
	 * usual case) the answer is synchronous, with no promise hop; only a full subject waits in
	 * the short queue (`options.waitMs`) and answers with a promise.
	 */
	checkOrWait(
		subjectKey: string,
		limits: SubjectLimits,
		estimate: CostEstimate,
		options: AsyncCheckOptions,
		now: number = Date.now(),
	): LimitDecision | Promise<LimitDecision> {
		return this.decide(subjectKey, limits, estimate, options, now);
	}

	private decide(
		subjectKey: string,
		limits: SubjectLimits,
		estimate: CostEstimate,
		wait: AsyncCheckOptions | null,
		now: number,
	): LimitDecision | Promise<LimitDecision> {
		const ticket = new LimitTicket(this.table.slotFor(subjectKey));
		const headers: HeaderRecord = {};
		if (ticket.slot < 0) return { ok: true, ticket, headers };
		const refused = this.takeRates(ticket, limits, estimate, now, headers);
		if (refused) return refused;
		const max = limits.max_concurrency;
		if (max == null || this.concurrency.tryAcquire(ticket.slot, max)) {
			ticket.holdsConcurrency = max != null;
			return this.takeDaily(ticket, limits, estimate, now, headers);
		}
		if (!wait) return this.refuseConcurrency(ticket, limits, max, headers);
		return this.concurrency.acquire(ticket.slot, max, wait).then((got) => {
			if (!got) return this.refuseConcurrency(ticket, limits, max, headers);
			ticket.holdsConcurrency = true;
			// Time passed while queued: the daily stamp uses the clock after the wait.
			return this.takeDaily(ticket, limits, estimate, Math.max(now, Date.now()), headers);
		});
	}

	settle(ticket: LimitTicket, actual: CostEstimate, now: number = Date.now()): void {
		if (ticket.settled) return;
		ticket.settled = true;
		if (ticket.slot < 0) return;
		if (ticket.tpmEnforced) {
			const delta = Math.max(0, Math.ceil(actual.tokens)) - ticket.tpmCost;
			if (delta > 0) this.tpm.forceTake(ticket.slot, delta, now);
			else if (delta < 0) this.tpm.giveBack(ticket.slot, -delta);
		}
		if (ticket.daily) this.daily.settle(ticket.slot, ticket.daily, actual);
	}

	/** Frees the ticket's concurrency place (once). */
	release(ticket: LimitTicket): void {
		if (ticket.released) return;
		ticket.released = true;
		if (ticket.holdsConcurrency) this.concurrency.release(ticket.slot);
	}

	/** Seeds daily counts and lifetime spend at startup (see DailyCounters.restore). */
	restore(subjectKey: string, snapshot: DailySnapshot, now: number = Date.now()): void {
		const slot = this.table.slotFor(subjectKey);
		if (slot >= 0) this.daily.restore(slot, snapshot, now);
	}

	private takeRates(
		ticket: LimitTicket,
		limits: SubjectLimits,
		estimate: CostEstimate,
		now: number,
		headers: HeaderRecord,
	): Refusal | null {
		const slot = ticket.slot;
		const rpm = limits.rpm;
		const tpm = limits.tpm;
		let requests: RateLimitState | undefined;
		if (rpm != null) {
			const r = this.rpm.tryTake(slot, 1, rpm, rpm / MINUTE_MS, now);
			requests = { limit: rpm, remaining: r.remaining, resetMs: r.resetMs };
			if (!r.ok) {
				if (tpm != null) {
					const p = this.tpm.peek(slot, tpm, tpm / MINUTE_MS, now);
					rateLimitHeaders(requests, { limit: tpm, ...p }, headers);
				} else rateLimitHeaders(requests, undefined, headers);
				return refusal("rpm", r.retryAfterMs, headers);
			}
		}
		if (tpm != null) {
			// An estimate above the whole window (max_tokens-based) could never pass: reserve the
			// full window instead; settling charges the real count.
			const cost = Math.min(Math.max(0, Math.ceil(estimate.tokens)), tpm);
			const r = this.tpm.tryTake(slot, cost, tpm, tpm / MINUTE_MS, now);
			const tokens = { limit: tpm, remaining: r.remaining, resetMs: r.resetMs };
			if (!r.ok) {
				if (requests) {
					this.rpm.giveBack(slot, 1);
					requests.remaining = Math.min(rpm as number, requests.remaining + 1);
				}
				rateLimitHeaders(requests, tokens, headers);
				return refusal("tpm", r.retryAfterMs, headers);
			}
			ticket.tpmEnforced = true;
			ticket.tpmCost = cost;
			rateLimitHeaders(requests, tokens, headers);
		} else rateLimitHeaders(requests, undefined, headers);
		return null;
	}

	private takeDaily(
		ticket: LimitTicket,
		limits: SubjectLimits,
		estimate: CostEstimate,
		now: number,
		headers: HeaderRecord,
	): LimitDecision {
		// Daily and lifetime counters run for every limited subject, even without a daily
		// limit, so a quota or budget added later (PATCH) sees the usage that came before it.
		const r = this.daily.reserve(ticket.slot, { requests: 1, tokens: estimate.tokens, usd: estimate.usd }, limits, now);
		if (!r.ok) {
			this.undo(ticket, limits, headers);
			return {
				ok: false,
				reason: r.failed,
				retryAfterMs: r.retryAfterMs,
				retryable: false,
				headers,
			};
		}
		ticket.daily = r.reservation;
		return { ok: true, ticket, headers };
	}

	private refuseConcurrency(ticket: LimitTicket, limits: SubjectLimits, max: number, headers: HeaderRecord): Refusal {
		this.undo(ticket, limits, headers);
		return max > 0
			? {
					ok: false,
					reason: "concurrency",
					retryAfterMs: CONCURRENCY_RETRY_MS,
					retryable: true,
					headers,
				}
			: {
					ok: false,
					reason: "concurrency",
					retryAfterMs: 0,
					retryable: false,
					headers,
				};
	}

	/** Gives back what `takeRates` / concurrency took, and fixes the remaining headers. */
	private undo(ticket: LimitTicket, limits: SubjectLimits, headers: HeaderRecord): void {
		const slot = ticket.slot;
		if (ticket.holdsConcurrency) {
			ticket.holdsConcurrency = false;
			this.concurrency.release(slot);
		}
		if (limits.rpm != null) {
			this.rpm.giveBack(slot, 1);
			bumpRemaining(headers, "requests", 1, limits.rpm);
		}
		if (ticket.tpmEnforced) {
			ticket.tpmEnforced = false;
			this.tpm.giveBack(slot, ticket.tpmCost);
			bumpRemaining(headers, "tokens", ticket.tpmCost, limits.tpm as number);
			ticket.tpmCost = 0;
		}
	}
}

function refusal(reason: "rpm" | "tpm", retryAfterMs: number, headers: HeaderRecord): Refusal {
	// Infinity = the limit is 0: no wait will help.
	return Number.isFinite(retryAfterMs)
		? { ok: false, reason, retryAfterMs, retryable: true, headers }
		: { ok: false, reason, retryAfterMs: 0, retryable: false, headers };
}

function bumpRemaining(headers: HeaderRecord, kind: "requests" | "tokens", by: number, limit: number): void {
	const name = `x-ratelimit-remaining-${kind}`;
	const cur = headers[name];
	if (cur !== undefined) headers[name] = String(Math.min(limit, Number(cur) + by));
}
