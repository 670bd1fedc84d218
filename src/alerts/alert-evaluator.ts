import type { AlertsPolicy } from "../config/alerts-config.ts";
import type { BudgetPeriod } from "../config/budget-period.ts";
import type { AuditWriterStats } from "../usage/audit-protocol.ts";
import { type Alert, newAlert } from "./alert.ts";

/** Shares of a budget that raise an alert when crossed. */
export const BUDGET_LEVELS = [50, 80, 100] as const;

/** A key's or tenant's budget and what its live counter says was spent in the current period. */
export interface BudgetReading {
	/** `key:<id>` or `tenant:<id>`, as the limit table names it. */
	subject: string;
	budgetUsd: number;
	spentUsd: number;
	period: BudgetPeriod;
	/** UTC day the current period began (-1 for a lifetime budget): a new period re-arms the levels. */
	periodStart: number;
}

/** One upstream account's monotonic counters from the shared account table. */
export interface AccountReading {
	/** `provider/account`. */
	account: string;
	disables: number;
	ejections: number;
	attempts: number;
	failures: number;
	/** The upstream status that disabled it (401/403), 0 when enabled. */
	disabledStatus: number;
}

export interface EvaluatorInput {
	now: number;
	budgets: readonly BudgetReading[];
	accounts: readonly AccountReading[];
	audit: AuditWriterStats;
}

interface BudgetState {
	/** Budget and period the levels below were reached under: a change re-arms them. */
	stamp: string;
	level: number;
}

interface AccountState {
	disables: number;
	ejections: number;
	/** (time, attempts, failures) samples inside the error-rate window, oldest first. */
	samples: [number, number, number][];
	/** True while the error rate is over the threshold (alerted once, until it drops below). */
	over: boolean;
}

const usd = (n: number) => `$${n.toFixed(2)}`;
const subjectName = (subject: string) => subject.replace(":", " ");

/**
 * Turns successive readings of shared counters into alerts, each sent once per crossing. It runs
 * in one place per instance (the supervisor), so HTTP workers never alert twice for one event:
 * - budgets: each of 50/80/100% once per budget and period; the first reading after a start
 *   only records where each subject stands (a restart does not repeat yesterday's alerts);
 * - accounts: every new disable (upstream 401/403) and ejection, from the table's counters;
 * - error rate: once when an account's failed share over the window passes the threshold,
 *   again only after it has dropped back below;
 * - audit: once when rows start going to the spool (until the spool is empty again), and for
 *   every reading that finds new dead-lettered rows.
 * Budget counters include reservations of requests in flight, so a level can be reached a
 * moment before the spend that settles it; a level is never alerted twice either way.
 */
export class AlertEvaluator {
	private readonly budgets = new Map<string, BudgetState>();
	private readonly accounts = new Map<string, AccountState>();
	private seeded = false;
	private spoolAlerted = false;
	private lastSpooled = 0;
	private lastDeadLettered = 0;

	constructor(private readonly policy: AlertsPolicy) {}

	evaluate(input: EvaluatorInput): Alert[] {
		const out: Alert[] = [];
		this.evaluateBudgets(input, out);
		for (const a of input.accounts) this.evaluateAccount(a, input.now, out);
		this.evaluateAudit(input, out);
		this.seeded = true;
		return out;
	}

	private evaluateBudgets(input: EvaluatorInput, out: Alert[]): void {
		for (const b of input.budgets) {
			if (!(b.budgetUsd > 0)) continue;
			const pct = (b.spentUsd / b.budgetUsd) * 100;
			const reached = BUDGET_LEVELS.filter((l) => pct >= l).at(-1) ?? 0;
			const stamp = `${b.budgetUsd}|${b.period}|${b.periodStart}`;
			let state = this.budgets.get(b.subject);
			if (!state || state.stamp !== stamp) {
				state = { stamp, level: this.seeded || state ? 0 : reached };
				this.budgets.set(b.subject, state);
			}
			for (const level of BUDGET_LEVELS) {
				if (level <= state.level || level > reached) continue;
				const period = b.period === "total" ? "" : ` this ${b.period}`;
				out.push(
					newAlert(
						"budget",
						level >= 100 ? "critical" : level >= 80 ? "warning" : "info",
						`Budget ${level}% reached: ${subjectName(b.subject)}`,
						`${subjectName(b.subject)} has spent ${usd(b.spentUsd)} of its ${usd(b.budgetUsd)} budget${period} (${Math.floor(pct)}%).`,
						{
							subject: b.subject,
							level,
							spent_usd: b.spentUsd,
							budget_usd: b.budgetUsd,
							period: b.period,
						},
						input.now,
					),
				);
			}
			state.level = Math.max(state.level, reached);
		}
	}

	private evaluateAccount(a: AccountReading, now: number, out: Alert[]): void {
		let s = this.accounts.get(a.account);
		if (!s) {
			// counters start at 0 with the process: whatever a new account already has is news
			s = { disables: 0, ejections: 0, samples: [], over: false };
			this.accounts.set(a.account, s);
		}
		if (a.disables > s.disables && a.disabledStatus !== 0) {
			out.push(
				newAlert(
					"account_disabled",
					"critical",
					`Upstream account disabled: ${a.account}`,
					`The upstream refused ${a.account}'s credentials (HTTP ${a.disabledStatus}). It is out of rotation until its key or settings change, an admin re-enables it, or a periodic re-check succeeds.`,
					{ account: a.account, status: a.disabledStatus },
					now,
				),
			);
		}
		if (a.ejections > s.ejections) {
			out.push(
				newAlert(
					"account_ejected",
					"warning",
					`Upstream account ejected: ${a.account}`,
					`${a.account} failed repeatedly and was taken out of rotation for a while (${a.ejections - s.ejections} ejection(s) since the last check).`,
					{ account: a.account, ejections: a.ejections },
					now,
				),
			);
		}
		s.disables = a.disables;
		s.ejections = a.ejections;
		this.evaluateErrorRate(a, s, now, out);
	}

	private evaluateErrorRate(a: AccountReading, s: AccountState, now: number, out: Alert[]): void {
		const p = this.policy;
		s.samples.push([now, a.attempts, a.failures]);
		// keep one sample at or before the window's start, as its baseline
		while (s.samples.length > 2 && (s.samples[1] as [number, number, number])[0] <= now - p.error_rate_window_ms) {
			s.samples.shift();
		}
		const [, attempts0, failures0] = s.samples[0] as [number, number, number];
		const attempts = a.attempts - attempts0;
		const failures = a.failures - failures0;
		const ratio = attempts > 0 ? failures / attempts : 0;
		const over = attempts >= p.error_rate_min_requests && ratio > p.error_rate_threshold;
		if (over && !s.over) {
			out.push(
				newAlert(
					"error_rate",
					"warning",
					`High upstream error rate: ${a.account}`,
					`${Math.round(ratio * 100)}% of the last ${attempts} attempts on ${a.account} failed (threshold ${Math.round(p.error_rate_threshold * 100)}%).`,
					{ account: a.account, error_rate: Math.round(ratio * 1000) / 1000, attempts, failures },
					now,
				),
			);
		}
		if (over) s.over = true;
		else if (ratio <= p.error_rate_threshold) s.over = false;
	}

	private evaluateAudit(input: EvaluatorInput, out: Alert[]): void {
		const a = input.audit;
		if (a.spoolPending === 0) this.spoolAlerted = false;
		else if (a.rowsSpooled > this.lastSpooled && !this.spoolAlerted) {
			this.spoolAlerted = true;
			out.push(
				newAlert(
					"audit_spool",
					"critical",
					"Usage rows are being spooled to disk",
					`The usage writer cannot write to Postgres${a.lastError ? ` (${a.lastError})` : ""}: ${a.spoolPending} row(s) wait in the spool file and it is growing. They are replayed when Postgres answers again.`,
					{ spool_pending: a.spoolPending, rows_spooled: a.rowsSpooled },
					input.now,
				),
			);
		}
		if (a.rowsDeadLettered > this.lastDeadLettered) {
			const n = a.rowsDeadLettered - this.lastDeadLettered;
			out.push(
				newAlert(
					"dead_letter",
					"warning",
					"Usage rows set aside in the dead letter",
					`Postgres refused ${n} usage row(s) for their data; they were set aside in request_logs_dead_letter (or the dead-letter file) with the reason.`,
					{ rows: n, total: a.rowsDeadLettered },
					input.now,
				),
			);
		}
		this.lastSpooled = a.rowsSpooled;
		this.lastDeadLettered = a.rowsDeadLettered;
	}
}
