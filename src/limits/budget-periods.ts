import type { BudgetPeriod } from "../config/budget-period.ts";

/**
 * Budget periods on UTC boundaries, as UTC day numbers (days since 1970-01-01): a day, an ISO
 * week (from Monday), a calendar month. `total` never resets.
 */

export const DAY_MS = 86_400_000;

export function utcDay(now: number): number {
	return Math.floor(now / DAY_MS);
}

/** The UTC day the period containing `day` began on (0 for `total`). */
export function periodStartDay(period: BudgetPeriod, day: number): number {
	switch (period) {
		case "day":
			return day;
		case "week":
			// 1970-01-01 was a Thursday: (day + 3) % 7 is 0 on Mondays
			return day - ((day + 3) % 7);
		case "month": {
			const d = new Date(day * DAY_MS);
			return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1) / DAY_MS;
		}
		default:
			return 0;
	}
}

/** Epoch ms when the period containing `now` ends; null for `total`. */
export function periodResetAt(period: BudgetPeriod, now: number): number | null {
	const day = utcDay(now);
	switch (period) {
		case "day":
			return (day + 1) * DAY_MS;
		case "week":
			return (periodStartDay("week", day) + 7) * DAY_MS;
		case "month": {
			const d = new Date(day * DAY_MS);
			return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
		}
		default:
			return null;
	}
}
