import type { Sql } from "postgres";
import { periodOf } from "../auth/principal.ts";
import type { BudgetPeriod } from "../config/budget-period.ts";
import { periodStartDay, utcDay } from "../limits/budget-periods.ts";
import { DailyCounters } from "../limits/daily-counters.ts";
import type { LimitTable } from "../limits/limit-table.ts";
import type { AccountStateTable } from "../routing/account-state-table.ts";
import type { AccountReading, BudgetReading } from "./alert-evaluator.ts";

/** A key or tenant with a budget, as the database has it. */
export interface BudgetSubject {
	subject: string;
	budgetUsd: number;
	/** Absent = lifetime. */
	period?: Exclude<BudgetPeriod, "total">;
}

/** Every key (not revoked) and tenant that has a budget. */
export async function loadBudgetSubjects(sql: Sql): Promise<BudgetSubject[]> {
	const rows = await sql<{ subject: string; budget_usd: number; budget_period: string }[]>`
		select 'key:' || id as subject, budget_usd::float8 as budget_usd, budget_period
		from api_keys where budget_usd is not null and revoked_at is null
		union all
		select 'tenant:' || id, budget_usd::float8, budget_period from tenants where budget_usd is not null`;
	return rows.map((r) => ({ subject: r.subject, budgetUsd: Number(r.budget_usd), period: periodOf(r.budget_period) }));
}

/** The live spend of each subject, from the shared limit table (what admission enforces). */
export function readBudgets(table: LimitTable, subjects: readonly BudgetSubject[], now: number): BudgetReading[] {
	const counters = new DailyCounters(table);
	const day = utcDay(now);
	const out: BudgetReading[] = [];
	for (const s of subjects) {
		// a subject no request has reached since the start has no slot: nothing spent here yet
		const slot = table.find(s.subject);
		const snap = slot >= 0 ? counters.read(slot, now, s.period) : null;
		const micro = (s.period ? snap?.period?.spentMicroUsd : snap?.spentMicroUsd) ?? 0;
		out.push({
			subject: s.subject,
			budgetUsd: s.budgetUsd,
			spentUsd: micro / 1_000_000,
			period: s.period ?? "total",
			periodStart: s.period ? periodStartDay(s.period, day) : -1,
		});
	}
	return out;
}

/** Every account any worker has routed to, with its counters. */
export function readAccounts(table: AccountStateTable): AccountReading[] {
	const out: AccountReading[] = [];
	for (let slot = 0; slot < table.capacity; slot++) {
		const account = table.keyOf(slot);
		if (account === null) continue;
		out.push({
			account,
			disables: table.counter(slot, "disables"),
			ejections: table.counter(slot, "ejections"),
			attempts: table.counter(slot, "attempts"),
			failures: table.counter(slot, "failures"),
			disabledStatus: table.disabledStatus(slot),
		});
	}
	return out;
}
