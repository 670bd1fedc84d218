import type { Sql } from "postgres";
import { usdToMicro, utcDay } from "./daily-counters.ts";
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
}

/**
 * Seeds the shared limit table from request_logs: today's (UTC) requests and tokens per key
 * and per tenant, and lifetime spend for the budgets. Runs once at startup (in the supervisor,
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
	const dayStart = new Date(day * 86_400_000).toISOString();
	const totals = sql`
		count(*) filter (where ts >= ${dayStart}::timestamptz)::bigint as requests,
		coalesce(sum(total_tokens) filter (where ts >= ${dayStart}::timestamptz), 0)::bigint as tokens,
		coalesce(sum(cost_usd), 0)::float8 as spent`;
	const counted = sql`(error_code is null or error_code not like 'PLATFORM\\_%')`;
	const rows = only
		? await sql<UsageRow[]>`
				select ${`${only.kind}:${only.id}`}::text as subject, ${totals}
				from request_logs where ${sql(`${only.kind}_id`)} = ${only.id} and ${counted}`
		: await sql<UsageRow[]>`
		with counted as (
			select key_id, tenant_id, ts, total_tokens, cost_usd from request_logs
			where (key_id is not null or tenant_id is not null) and ${counted}
		)
		select 'key:' || key_id as subject, ${totals}
		from counted where key_id is not null group by key_id
		union all
		select 'tenant:' || tenant_id as subject, ${totals}
		from counted where tenant_id is not null group by tenant_id`;
	for (const r of rows) {
		limiter.restore(
			r.subject,
			{
				day,
				requests: Number(r.requests),
				tokens: Number(r.tokens),
				spentMicroUsd: usdToMicro(Number(r.spent)),
			},
			now,
		);
	}
	return { subjects: rows.length };
}
