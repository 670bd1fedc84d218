import type { AccountStateTable } from "./account-state-table.ts";
import type { AttemptOutcome } from "./types.ts";

/**
 * Passive health checking over the shared table (outlier ejection in Envoy's terms):
 * consecutive upstream failures eject an account with exponential backoff; once the
 * ejection lapses the account is half-open and exactly one request, across all
 * workers, may probe it. Upstream 429s cool an account down for its retry-after (capped);
 * 401/403 disable it until its settings change, an admin re-enables it, or a periodic
 * re-check succeeds (account-recovery.ts).
 *
 * The same machine runs over two tables: accounts, for account-wide signals, and
 * (account, model) lanes for model-scoped ones (model-lanes.ts).
 */
export interface HealthPolicy {
	/** Consecutive failures (5xx, timeout, connection error) that eject an account. */
	failureThreshold: number;
	/** First ejection length; each ejection in a row doubles it. */
	baseEjectionMs: number;
	maxEjectionMs: number;
	/** Cooldown for a 429 with no retry hint. */
	defaultRetryAfterMs: number;
	/**
	 * Upper bound on a cooldown taken from an upstream's retry hint: one 429 with a huge
	 * retry-after must not park a shared account (every tenant's traffic) for an hour.
	 */
	maxRetryAfterMs: number;
	/** Weight of a new time-to-first-token sample in the EWMA. */
	ewmaAlpha: number;
	/** How long a half-open probe holds its lease if its outcome never arrives. */
	probeLeaseMs: number;
	/** Error ratio window; the ratio slides over the current and previous window. */
	errorWindowMs: number;
}

export const DEFAULT_HEALTH_POLICY: Readonly<HealthPolicy> = Object.freeze({
	failureThreshold: 3,
	baseEjectionMs: 5_000,
	maxEjectionMs: 300_000,
	defaultRetryAfterMs: 1_000,
	maxRetryAfterMs: 60_000,
	ewmaAlpha: 0.2,
	probeLeaseMs: 60_000,
	errorWindowMs: 10_000,
});

export type AccountAvailability =
	| "available"
	| "disabled"
	| "cooling_down"
	| "ejected"
	/** Ejection lapsed; usable only by the one request holding the probe lease. */
	| "half_open";

/** The coarse state operators see (admin views, /metrics). */
export type AccountState = "healthy" | "cooling" | "ejected" | "disabled";
export const ACCOUNT_STATES: readonly AccountState[] = ["healthy", "cooling", "ejected", "disabled"];

/** An account's (or a model lane's) state with why, since when and until when (epoch ms). */
export interface AccountStatus {
	state: AccountState;
	/** `upstream_401`, `upstream_429`, `upstream_429_retry_after`, `consecutive_failures`; null when healthy. */
	reason: string | null;
	since: number | null;
	until: number | null;
}

export class AccountHealth {
	readonly policy: Readonly<HealthPolicy>;

	constructor(
		readonly table: AccountStateTable,
		policy: Partial<HealthPolicy> = {},
	) {
		this.policy = Object.freeze({ ...DEFAULT_HEALTH_POLICY, ...policy });
	}

	/** Returns true when this very call disabled the slot (exactly one caller sees that). */
	recordOutcome(slot: number, outcome: AttemptOutcome, now: number): boolean {
		const table = this.table;
		table.increment(slot, "attempts");
		switch (outcome.kind) {
			case "success":
				this.recordSuccess(slot, outcome.ttftMs, now);
				return false;
			case "server_error":
			case "timeout":
			case "connection_error":
				this.recordFailure(slot, now);
				return false;
			case "rate_limited": {
				const hint = outcome.retryAfterMs ?? this.policy.defaultRetryAfterMs;
				const wait = Math.min(Math.max(0, hint), this.policy.maxRetryAfterMs);
				table.increment(slot, "cooldowns");
				table.extendCooldown(slot, now + wait, now, outcome.retryAfterMs !== null);
				// Says nothing about health: let another request probe later.
				this.releaseProbeIfHalfOpen(slot, now);
				return false;
			}
			case "auth_error": {
				const flipped = table.disable(slot, outcome.status, now);
				if (flipped) table.increment(slot, "disables");
				table.releaseProbe(slot);
				return flipped;
			}
			case "client_error":
				// The client's fault: no health change, but free a probe it may hold.
				this.releaseProbeIfHalfOpen(slot, now);
				return false;
		}
	}

	/**
	 * Counts an attempt whose signal belongs to a model lane, not to the account: the
	 * account's totals move, its health does not. A half-open probe it held is freed.
	 */
	countOnly(slot: number, outcome: AttemptOutcome, now: number): void {
		const table = this.table;
		table.increment(slot, "attempts");
		if (outcome.kind === "rate_limited") table.increment(slot, "cooldowns");
		else if (outcome.kind !== "success" && outcome.kind !== "client_error") table.increment(slot, "failures");
		this.releaseProbeIfHalfOpen(slot, now);
	}

	status(slot: number, now: number): AccountStatus {
		const table = this.table;
		const disabled = table.disabledStatus(slot);
		if (disabled !== 0) {
			return { state: "disabled", reason: `upstream_${disabled}`, since: table.disabledSince(slot), until: null };
		}
		const cooldownUntil = table.cooldownUntil(slot);
		if (cooldownUntil > now) {
			return {
				state: "cooling",
				reason: table.cooldownHinted(slot) ? "upstream_429_retry_after" : "upstream_429",
				since: table.cooldownSince(slot),
				until: cooldownUntil,
			};
		}
		const ejectedUntil = table.ejectedUntil(slot);
		if (ejectedUntil !== 0 && now < ejectedUntil) {
			return { state: "ejected", reason: "consecutive_failures", since: table.ejectedSince(slot), until: ejectedUntil };
		}
		return { state: "healthy", reason: null, since: null, until: null };
	}

	availability(slot: number, now: number): AccountAvailability {
		const table = this.table;
		if (table.disabledStatus(slot) !== 0) return "disabled";
		if (table.cooldownUntil(slot) > now) return "cooling_down";
		const ejectedUntil = table.ejectedUntil(slot);
		if (ejectedUntil === 0) return "available";
		return now < ejectedUntil ? "ejected" : "half_open";
	}

	/** Claim the single probe of a half-open account. Only one caller wins per lease. */
	tryAcquireProbe(slot: number, now: number): boolean {
		return this.table.tryAcquireProbe(slot, now, this.policy.probeLeaseMs);
	}

	/** Share of failures over roughly the last `errorWindowMs`, 0 without data. */
	errorRatio(slot: number, now: number): number {
		const windowMs = this.policy.errorWindowMs;
		const epoch = Math.floor(now / windowMs);
		const previousWeight = 1 - (now - epoch * windowMs) / windowMs;
		return this.table.errorRatio(slot, epoch, previousWeight);
	}

	/** Ejection length for the n-th ejection in a row (n >= 1). */
	ejectionDuration(streak: number): number {
		const { baseEjectionMs, maxEjectionMs } = this.policy;
		return Math.min(baseEjectionMs * 2 ** Math.max(0, streak - 1), maxEjectionMs);
	}

	/** Re-enable an account disabled by an upstream 401/403, with a clean record. */
	enable(slot: number): void {
		this.table.resetHealth(slot);
		this.table.enable(slot);
	}

	/** Admin: forget latency, failures, ejection and cooldown for an account. */
	reset(slot: number): void {
		this.table.resetHealth(slot);
	}

	private recordSuccess(slot: number, ttftMs: number, now: number): void {
		const table = this.table;
		table.increment(slot, "successes");
		table.resetConsecutiveFailures(slot);
		table.recordResult(slot, true, this.epoch(now));
		if (Number.isFinite(ttftMs) && ttftMs >= 0) {
			table.updateEwmaTtft(slot, ttftMs, this.policy.ewmaAlpha);
		}
		const ejectedUntil = table.ejectedUntil(slot);
		// A success that was already in flight when the account got ejected does not cut
		// the ejection short; once it lapses (half-open), a success closes it.
		if (ejectedUntil !== 0 && now >= ejectedUntil && table.casEjectedUntil(slot, ejectedUntil, 0)) {
			table.setEjectionStreak(slot, 0);
			table.releaseProbe(slot);
		}
	}

	private recordFailure(slot: number, now: number): void {
		const table = this.table;
		table.increment(slot, "failures");
		table.recordResult(slot, false, this.epoch(now));
		const consecutive = table.incrementConsecutiveFailures(slot);
		const ejectedUntil = table.ejectedUntil(slot);
		if (ejectedUntil === 0) {
			if (consecutive >= this.policy.failureThreshold) this.eject(slot, 0, now);
		} else if (now >= ejectedUntil) {
			// Half-open and it failed again: back out for longer.
			this.eject(slot, ejectedUntil, now);
		}
		// Otherwise it is already ejected; failures of requests still in flight add nothing.
	}

	/** CAS from `expected` so concurrent failures in several workers eject once. */
	private eject(slot: number, expected: number, now: number): void {
		const table = this.table;
		const duration = this.ejectionDuration(table.ejectionStreak(slot) + 1);
		if (!table.casEjectedUntil(slot, expected, now + duration)) return;
		table.setEjectedSince(slot, now);
		table.incrementEjectionStreak(slot);
		table.increment(slot, "ejections");
		table.releaseProbe(slot);
	}

	private releaseProbeIfHalfOpen(slot: number, now: number): void {
		const ejectedUntil = this.table.ejectedUntil(slot);
		if (ejectedUntil !== 0 && now >= ejectedUntil) this.table.releaseProbe(slot);
	}

	private epoch(now: number): number {
		return Math.floor(now / this.policy.errorWindowMs);
	}
}
