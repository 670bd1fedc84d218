import type { KeyLimits, Principal } from "../auth/principal.ts";
import { periodResetAt } from "./budget-periods.ts";
import { ConcurrencyCounters } from "./concurrency.ts";
import { DailyCounters, usdToMicro } from "./daily-counters.ts";
import type { Limiter } from "./limiter.ts";
import { TokenBucket } from "./token-bucket.ts";

const MINUTE_MS = 60_000;

interface Counted {
	limit: number;
	used: number;
	remaining: number;
	/** ISO 8601 UTC; null when it never resets. */
	resets_at: string | null;
}

/** `GET /v1/token/balance`: the caller's own key, its limits and where it stands (this instance's counters). */
export interface Balance {
	object: "token_balance";
	/** Null for a static key from the config (no limits apply to it). */
	key_id: string | null;
	limited: boolean;
	limits: {
		requests_per_minute?: Omit<Counted, "used">;
		tokens_per_minute?: Omit<Counted, "used">;
		max_concurrency?: { limit: number; in_flight: number; remaining: number };
		daily_requests?: Counted;
		daily_tokens?: Counted;
		budget_usd?: Counted & { period: "day" | "week" | "month" | "total" };
	};
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The key's own limits only: never its tenant's (other keys' usage) or any other key's. */
export function balanceOf(limiter: Limiter, principal: Principal, now: number = Date.now()): Balance {
	const l: KeyLimits = principal.limits ?? {};
	const out: Balance = { object: "token_balance", key_id: principal.keyId, limited: false, limits: {} };
	if (!principal.keyId || Object.keys(l).length === 0) return out;
	out.limited = true;
	const table = limiter.table;
	// a key that has not been used since the instance started has no slot yet: nothing used
	const slot = table.find(`key:${principal.keyId}`);
	const rate = (kind: "rpm" | "tpm", limit: number) => {
		const p = slot >= 0 ? new TokenBucket(table, kind).peek(slot, limit, limit / MINUTE_MS, now) : null;
		return { limit, remaining: p?.remaining ?? limit, resets_at: iso(now + (p?.resetMs ?? 0)) };
	};
	if (l.rpm != null) out.limits.requests_per_minute = rate("rpm", l.rpm);
	if (l.tpm != null) out.limits.tokens_per_minute = rate("tpm", l.tpm);
	if (l.max_concurrency != null) {
		const inFlight = slot >= 0 ? new ConcurrencyCounters(table).inFlight(slot) : 0;
		out.limits.max_concurrency = {
			limit: l.max_concurrency,
			in_flight: inFlight,
			remaining: Math.max(0, l.max_concurrency - inFlight),
		};
	}
	const s = slot >= 0 ? new DailyCounters(table).read(slot, now, l.budget_period) : null;
	const midnight = periodResetAt("day", now);
	const counted = (limit: number, used: number, resetsAt: number | null): Counted => ({
		limit,
		used,
		remaining: Math.max(0, limit - used),
		resets_at: iso(resetsAt),
	});
	if (l.quota_daily_requests != null) {
		out.limits.daily_requests = counted(l.quota_daily_requests, s?.requests ?? 0, midnight);
	}
	if (l.quota_daily_tokens != null) out.limits.daily_tokens = counted(l.quota_daily_tokens, s?.tokens ?? 0, midnight);
	if (l.budget_usd != null) {
		const period = l.budget_period ?? "total";
		const micro = (l.budget_period ? s?.period?.spentMicroUsd : s?.spentMicroUsd) ?? 0;
		out.limits.budget_usd = {
			limit: l.budget_usd,
			used: micro / 1_000_000,
			// in micro-USD, as counted: no floating-point dust in what is left
			remaining: Math.max(0, usdToMicro(l.budget_usd) - micro) / 1_000_000,
			resets_at: iso(periodResetAt(period, now)),
			period,
		};
	}
	return out;
}
