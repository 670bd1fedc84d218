import type { Sql } from "postgres";
import { periodOf } from "../auth/principal.ts";
import { DAY_MS, periodStartDay, utcDay } from "./budget-periods.ts";
import { usdToMicro } from "./daily-counters.ts";
import type { Limiter } from "./limiter.ts";

export interface RestoreResult {
	subjects: number;
}

/** One key or tenant, as the limit table names it (`key:<id>`, `tenant:<id>`). */
export interface LimitSubject {
	kind: "key" | "tenant";
	id: string;
}

interface UsageRow {
	subject: string;
	requests: number | string;
	tokens: number | string;
	spent: number | string;
	budget_period: string | null;
	period_spent: number | string;
}

/**
 * Seeds the shared limit table from request_logs: today's (UTC) requests and tokens per key
 * and per tenant, lifetime spend, and the spend of the current budget period (the key's or
 * tenant's `budget_period`). Runs once at startup (in the supervisor,
 * before the HTTP workers start) for every subject, and for one subject when an admin change
 * gives it a daily quota or a budget (`only`): live counters run only for subjects with
 * limits, so one that gains a limit starts from its logged usage, not from zero.
 *
 * Requests refused before admission (the gateway's own PLATFORM_* errors: bad input, limits)
 * never counted against a quota, so they are left out. The limiter takes the max of what it
 * has and what is restored, so a repeat is harmless.
 */
export async function restoreUsage(
	sql: Sql,
	limiter: Limiter,
	now: number = Date.now(),
	only?: LimitSubject,
): Promise<RestoreResult> {
	const day = utcDay(now);
	const startOf = (period: "day" | "week" | "month") => new Date(periodStartDay(period, day) * DAY_MS).toISOString();
	// p is the key's or tenant's row: its budget period picks the window of period_spent
	const totals = sql`
		count(*) filter (where ts >= ${startOf("day")}::timestamptz)::bigint as requests,
		coalesce(sum(total_tokens) filter (where ts >= ${startOf("day")}::timestamptz), 0)::bigint as tokens,
		coalesce(sum(cost_usd), 0)::float8 as spent,
		p.budget_period,
		coalesce(sum(cost_usd) filter (where ts >= case p.budget_period
			when 'day' then ${startOf("day")}::timestamptz
			when 'week' then ${startOf("week")}::timestamptz
			when 'month' then ${startOf("month")}::timestamptz end), 0)::float8 as period_spent`;
	const counted = sql`(error_code is null or error_code not like 'PLATFORM\\_%')`;
	const rows = only
		? await sql<UsageRow[]>`
				select ${`${only.kind}:${only.id}`}::text as subject, ${totals}
				from request_logs r left join ${sql(only.kind === "key" ? "api_keys" : "tenants")} p on p.id = ${only.id}
				where r.${sql(`${only.kind}_id`)} = ${only.id} and ${counted} group by p.budget_period`
		: await sql<UsageRow[]>`
		with counted as (
			select key_id, tenant_id, ts, total_tokens, cost_usd from request_logs
			where (key_id is not null or tenant_id is not null) and ${counted}
		)
		select 'key:' || key_id as subject, ${totals}
		from counted c left join api_keys p on p.id = c.key_id where key_id is not null group by key_id, p.budget_period
		union all
		select 'tenant:' || tenant_id as subject, ${totals}
		from counted c left join tenants p on p.id = c.tenant_id where tenant_id is not null
		group by tenant_id, p.budget_period`;
	for (const r of rows) {
		const period = periodOf(r.budget_period);
		limiter.restore(
			r.subject,
			{
				day,
				requests: Number(r.requests),
				tokens: Number(r.tokens),
				spentMicroUsd: usdToMicro(Number(r.spent)),
				period: period && { period, spentMicroUsd: usdToMicro(Number(r.period_spent)) },
			},
			now,
		);
	}
	return { subjects: rows.length };
}
