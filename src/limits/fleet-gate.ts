import type { KeyLimits } from "../auth/principal.ts";
import type { BudgetPeriod } from "../config/budget-period.ts";
import { type CountWindow, FleetLeases, type Grant } from "../fleet/fleet-leases.ts";
import { DAY_MS, periodResetAt, periodStartDay, utcDay } from "./budget-periods.ts";
import { DailyCounters, usdToMicro } from "./daily-counters.ts";
import type { CostEstimate, Limiter, LimitReason } from "./limiter.ts";

/** A fleet-wide refusal, in the Limiter's terms, so both refuse alike. */
export interface FleetRefusal {
	ok: false;
	reason: LimitReason;
	retryAfterMs: number;
	retryable: boolean;
}

/** What one subject holds in the fleet for one request. */
export interface FleetHold {
	ok: true;
	/** Settles reservations to what the request used. */
	settle(actual: CostEstimate): void;
	/** Frees the concurrency slot (once). */
	release(): void;
	/** Gives everything back: a later check refused the request. */
	undo(): void;
}

/** One limit of one subject: take it, give it back, settle it. */
interface Step {
	take(): Grant;
	undo(): void;
	settle?(actual: CostEstimate): void;
	release?(): void;
	refusal(): FleetRefusal;
}

const MINUTE_MS = 60_000;
/** A `total` budget's window: one that does not end (its key expires only when unused for long). */
const TOTAL: CountWindow = { id: "total", endsAt: Number.POSITIVE_INFINITY };

/**
 * The fleet's half of admission: after the instance's own limits admit a request, each limited
 * subject takes the same limits from the fleet's shared leases (src/fleet/fleet-leases.ts), in
 * the Limiter's order. Synchronous while leases have room; a refill waits at most the Redis
 * deadline. Counters that Redis does not know yet start from this instance's own counters,
 * which were restored from request_logs (every instance's rows) at startup.
 */
export class FleetGate {
	private readonly daily: DailyCounters;

	constructor(
		private readonly leases: FleetLeases,
		private readonly limiter: Limiter,
		private readonly now: () => number = Date.now,
	) {
		this.daily = new DailyCounters(limiter.table);
	}

	take(
		subject: string,
		limits: KeyLimits,
		estimate: CostEstimate,
	): FleetHold | FleetRefusal | Promise<FleetHold | FleetRefusal> {
		const steps = this.steps(subject, limits, estimate);
		return run(steps, 0);
	}

	private steps(subject: string, l: KeyLimits, estimate: CostEstimate): Step[] {
		const leases = this.leases;
		const now = this.now();
		const out: Step[] = [];
		const rate = (reason: "rpm" | "tpm", limit: number, cost: number): Step => ({
			take: () => leases.takeRate(subject, reason, limit, cost),
			undo: () => leases.settleRate(subject, reason, limit, -cost),
			settle:
				reason === "tpm" ? (a) => leases.settleRate(subject, reason, limit, Math.ceil(a.tokens) - cost) : undefined,
			refusal: () => ({
				ok: false,
				reason,
				retryAfterMs: limit > 0 ? Math.ceil((cost * MINUTE_MS) / limit) : 0,
				retryable: limit > 0,
			}),
		});
		if (l.rpm != null) out.push(rate("rpm", l.rpm, 1));
		if (l.tpm != null) out.push(rate("tpm", l.tpm, Math.min(Math.max(0, Math.ceil(estimate.tokens)), l.tpm)));
		if (l.max_concurrency != null) {
			const max = l.max_concurrency;
			let held = false;
			out.push({
				take: () => {
					const g = leases.acquireSlot(subject, max);
					const mark = (ok: boolean) => {
						held = ok;
						return ok;
					};
					return g instanceof Promise ? g.then(mark) : mark(g);
				},
				undo: () => this.releaseOnce(subject, held, () => (held = false)),
				release: () => this.releaseOnce(subject, held, () => (held = false)),
				refusal: () => ({ ok: false, reason: "concurrency", retryAfterMs: max > 0 ? 1_000 : 0, retryable: max > 0 }),
			});
		}
		const day = FleetLeases.day(now);
		const untilMidnight = day.endsAt - now;
		// the instance's own count of the window, without this request (the Limiter took it already)
		const local = () => {
			const slot = this.limiter.table.find(subject);
			return slot < 0 ? null : this.daily.read(slot, now, l.budget_period);
		};
		const counter = (
			dim: "requests" | "tokens" | "micro_usd",
			window: CountWindow,
			limit: number,
			cost: number,
			base: () => number,
			reason: LimitReason,
			retryAfterMs: number,
		): Step => ({
			take: () => leases.takeCounter(subject, dim, window, limit, cost, () => Math.max(0, base() - cost)),
			undo: () => leases.settleCounter(subject, dim, window, -cost),
			settle:
				dim === "requests"
					? undefined
					: (a) =>
							leases.settleCounter(
								subject,
								dim,
								window,
								(dim === "tokens" ? Math.ceil(a.tokens) : usdToMicro(a.usd)) - cost,
							),
			refusal: () => ({ ok: false, reason, retryAfterMs, retryable: false }),
		});
		if (l.quota_daily_requests != null) {
			out.push(
				counter(
					"requests",
					day,
					l.quota_daily_requests,
					1,
					() => local()?.requests ?? 0,
					"daily_requests",
					untilMidnight,
				),
			);
		}
		if (l.quota_daily_tokens != null) {
			const cost = Math.min(Math.max(0, Math.ceil(estimate.tokens)), l.quota_daily_tokens);
			out.push(
				counter("tokens", day, l.quota_daily_tokens, cost, () => local()?.tokens ?? 0, "daily_tokens", untilMidnight),
			);
		}
		if (l.budget_usd != null) {
			const budget = usdToMicro(l.budget_usd);
			const cost = Math.min(usdToMicro(estimate.usd), budget);
			const window = budgetWindow(l.budget_period, now);
			const spent = () => {
				const s = local();
				return (l.budget_period ? s?.period?.spentMicroUsd : s?.spentMicroUsd) ?? 0;
			};
			const wait = Number.isFinite(window.endsAt) ? window.endsAt - now : 0;
			out.push(counter("micro_usd", window, budget, cost, spent, "budget", wait));
		}
		return out;
	}

	private releaseOnce(subject: string, held: boolean, clear: () => void): void {
		if (!held) return;
		clear();
		this.leases.releaseSlot(subject);
	}
}

/** Runs the steps in order, synchronously while they answer synchronously. */
function run(steps: Step[], from: number): FleetHold | FleetRefusal | Promise<FleetHold | FleetRefusal> {
	for (let i = from; i < steps.length; i++) {
		const step = steps[i] as Step;
		const g = step.take();
		if (g instanceof Promise) {
			return g.then((ok) => (ok ? run(steps, i + 1) : refuse(steps, i)));
		}
		if (!g) return refuse(steps, i);
	}
	return hold(steps);
}

function refuse(steps: Step[], failed: number): FleetRefusal {
	for (let j = 0; j < failed; j++) steps[j]?.undo();
	return (steps[failed] as Step).refusal();
}

function hold(steps: Step[]): FleetHold {
	let settled = false;
	const release = () => {
		for (const s of steps) s.release?.();
	};
	return {
		ok: true,
		settle(actual) {
			if (settled) return;
			settled = true;
			for (const s of steps) s.settle?.(actual);
			release();
		},
		release,
		undo() {
			if (settled) return;
			settled = true;
			for (const s of steps) s.undo();
		},
	};
}

function budgetWindow(period: BudgetPeriod | undefined | null, now: number): CountWindow {
	if (!period || period === "total") return TOTAL;
	const start = periodStartDay(period, utcDay(now));
	return { id: `${period[0]}${start}`, endsAt: periodResetAt(period, now) ?? start * DAY_MS };
}
