import type { Sql } from "postgres";
import type { Db } from "../db/client.ts";
import { GatewayError } from "../errors/gateway-error.ts";
import type { UsageEvent } from "../usage/usage-event.ts";

type SqlOrDb = Sql | Pick<Db, "sql">;
const toSql = (s: SqlOrDb): Sql => (typeof s === "function" ? s : s.sql);

const invalid = (param: string, message: string) => new GatewayError("PLATFORM_INVALID_REQUEST", message, { param });

/** Accepts ISO 8601 strings, epoch milliseconds (number or digits) and Dates. */
function parseTime(value: unknown, param: string): string | null {
	if (value === undefined || value === null || value === "") return null;
	let d: Date;
	if (value instanceof Date) d = value;
	else if (typeof value === "number" || (typeof value === "string" && /^\d+$/.test(value))) d = new Date(Number(value));
	else if (typeof value === "string") d = new Date(value);
	else throw invalid(param, `${param} must be an ISO 8601 date or epoch milliseconds`);
	if (Number.isNaN(d.getTime())) throw invalid(param, `${param} must be an ISO 8601 date or epoch milliseconds`);
	return d.toISOString();
}

export interface LogQuery {
	/** One request (the log detail). */
	request_id?: string;
	key_id?: string;
	model?: string;
	status?: number | string;
	since?: string | number | Date;
	until?: string | number | Date;
	limit?: number | string;
	cursor?: string;
}

/** A request_logs row as the admin API returns it: the usage event, with `ts` as ISO text. */
export type LogRow = Omit<UsageEvent, "ts"> & { ts: string };

/** Opaque keyset cursor: the (ts, request_id) of the last row returned. */
const encodeCursor = (ts: string, id: string) => Buffer.from(JSON.stringify([ts, id])).toString("base64url");

function decodeCursor(cursor: string): [string, string] {
	try {
		const v = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
		if (Array.isArray(v) && typeof v[0] === "string" && typeof v[1] === "string" && !Number.isNaN(Date.parse(v[0])))
			return [v[0], v[1]];
	} catch {}
	throw invalid("cursor", "cursor is not valid");
}

/** Request log rows, newest first, paged by an opaque cursor (`next_cursor` null at the end). */
export async function queryLogs(
	target: SqlOrDb,
	q: LogQuery = {},
): Promise<{ data: LogRow[]; next_cursor: string | null }> {
	const sql = toSql(target);
	const limit = q.limit === undefined || q.limit === "" ? 50 : Number(q.limit);
	if (!Number.isInteger(limit) || limit < 1 || limit > 500)
		throw invalid("limit", "limit must be an integer from 1 to 500");
	let status: number | null = null;
	if (q.status !== undefined && q.status !== "") {
		status = Number(q.status);
		if (!Number.isInteger(status) || status < 100 || status > 599)
			throw invalid("status", "status must be an HTTP status code");
	}
	const since = parseTime(q.since, "since");
	const until = parseTime(q.until, "until");
	const after = q.cursor ? decodeCursor(q.cursor) : null;
	const conds = [sql`true`];
	if (q.request_id) conds.push(sql`request_id = ${q.request_id}`);
	if (q.key_id) conds.push(sql`key_id = ${q.key_id}`);
	if (q.model) conds.push(sql`model = ${q.model}`);
	if (status !== null) conds.push(sql`status = ${status}`);
	if (since) conds.push(sql`ts >= ${since}::timestamptz`);
	if (until) conds.push(sql`ts < ${until}::timestamptz`);
	if (after) conds.push(sql`(ts, request_id) < (${after[0]}::timestamptz, ${after[1]})`);
	const where = conds.reduce((acc, c) => sql`${acc} and ${c}`);
	// ts travels as epoch ms: timestamptz parsing differs between postgres.js setups.
	const rows = await sql<
		(Omit<LogRow, "ts" | "cost_usd"> & {
			ts: unknown;
			ts_ms: number;
			cost_usd: number | string | null;
		})[]
	>`
		select *, (extract(epoch from ts) * 1000)::float8 as ts_ms from request_logs where ${where}
		order by ts desc, request_id desc
		limit ${limit + 1}`;
	const page = rows.slice(0, limit).map(({ ts_ms, ...r }) => ({
		...r,
		ts: new Date(Math.round(ts_ms)).toISOString(),
		// null: the model had no price (cost unknown)
		cost_usd: r.cost_usd === null ? null : Number(r.cost_usd),
		prompt_tokens: Number(r.prompt_tokens),
		completion_tokens: Number(r.completion_tokens),
		cached_tokens: Number(r.cached_tokens),
		cache_write_tokens: Number(r.cache_write_tokens),
		reasoning_tokens: Number(r.reasoning_tokens),
		total_tokens: Number(r.total_tokens),
	}));
	const last = page[page.length - 1];
	return {
		data: page,
		next_cursor: rows.length > limit && last ? encodeCursor(last.ts, last.request_id) : null,
	};
}

export const USAGE_GROUPS = ["model", "key", "tenant", "provider", "account", "hour", "day"] as const;
export type UsageGroup = (typeof USAGE_GROUPS)[number];

/** Fixed SQL per group: the user's choice only ever selects one of these. */
const GROUP_EXPR: Record<UsageGroup, string> = {
	model: "model",
	key: "key_id",
	tenant: "tenant_id",
	provider: "provider",
	account: "provider || '/' || account",
	hour: `to_char(date_trunc('hour', ts at time zone 'UTC'), 'YYYY-MM-DD"T"HH24:00:00"Z"')`,
	day: `to_char(date_trunc('day', ts at time zone 'UTC'), 'YYYY-MM-DD')`,
};

export interface UsageQuery {
	group_by: string;
	since?: string | number | Date;
	until?: string | number | Date;
}

export interface UsageRow {
	group: string | null;
	requests: number;
	errors: number;
	prompt_tokens: number;
	completion_tokens: number;
	total_tokens: number;
	cost_usd: number;
	latency_p50_ms: number | null;
	latency_p95_ms: number | null;
}

/** Aggregates over request_logs; hour/day buckets are UTC and sorted in time order. */
export async function queryUsage(target: SqlOrDb, q: UsageQuery): Promise<UsageRow[]> {
	const sql = toSql(target);
	if (!(USAGE_GROUPS as readonly string[]).includes(q.group_by))
		throw invalid("group_by", `group_by must be one of ${USAGE_GROUPS.join(", ")}`);
	const group = q.group_by as UsageGroup;
	const since = parseTime(q.since, "since");
	const until = parseTime(q.until, "until");
	const conds = [sql`true`];
	if (since) conds.push(sql`ts >= ${since}::timestamptz`);
	if (until) conds.push(sql`ts < ${until}::timestamptz`);
	const where = conds.reduce((acc, c) => sql`${acc} and ${c}`);
	const timeGroup = group === "hour" || group === "day";
	const rows = await sql<Record<string, unknown>[]>`
		select ${sql.unsafe(GROUP_EXPR[group])} as "group",
			count(*)::bigint as requests,
			count(*) filter (where status >= 400)::bigint as errors,
			coalesce(sum(prompt_tokens), 0)::bigint as prompt_tokens,
			coalesce(sum(completion_tokens), 0)::bigint as completion_tokens,
			coalesce(sum(total_tokens), 0)::bigint as total_tokens,
			coalesce(sum(cost_usd), 0)::float8 as cost_usd,
			percentile_cont(0.5) within group (order by latency_ms)::float8 as latency_p50_ms,
			percentile_cont(0.95) within group (order by latency_ms)::float8 as latency_p95_ms
		from request_logs where ${where}
		group by 1
		order by ${timeGroup ? sql`1 asc` : sql`requests desc, 1 asc`}`;
	return rows.map((r) => ({
		group: (r.group as string | null) ?? null,
		requests: Number(r.requests),
		errors: Number(r.errors),
		prompt_tokens: Number(r.prompt_tokens),
		completion_tokens: Number(r.completion_tokens),
		total_tokens: Number(r.total_tokens),
		cost_usd: Number(r.cost_usd),
		latency_p50_ms: r.latency_p50_ms === null ? null : Number(r.latency_p50_ms),
		latency_p95_ms: r.latency_p95_ms === null ? null : Number(r.latency_p95_ms),
	}));
}
