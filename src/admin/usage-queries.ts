import { Type } from "@sinclair/typebox";
import type { Sql } from "postgres";
import type { Db } from "../db/client.ts";
import { GatewayError } from "../errors/gateway-error.ts";
import type { UsageEvent } from "../usage/usage-event.ts";
import { param, type QuerySchema } from "./admin-query.ts";
import { parseTimeParam } from "./time-param.ts";

type SqlOrDb = Sql | Pick<Db, "sql">;
const toSql = (s: SqlOrDb): Sql => (typeof s === "function" ? s : s.sql);

const invalid = (param: string, message: string) => new GatewayError("PLATFORM_INVALID_REQUEST", message, { param });

/** A time filter as ISO text for SQL; null when absent. */
function parseTime(value: unknown, param: string): string | null {
	const ms = parseTimeParam(value, param);
	return ms === null ? null : new Date(ms).toISOString();
}

const SINCE = "ISO 8601, epoch ms, or a span back from now (30m, 24h, 7d)";
const UNTIL = "ISO 8601, epoch ms, or a span back from now (exclusive)";

/** GET /admin/logs parameters. */
export const LogParams = Type.Object({
	key_id: param("a key id"),
	model: param("a model (as routed upstream)"),
	status: param("an HTTP status code"),
	since: param(SINCE),
	until: param(UNTIL),
	limit: param("1 to 500 (default 50)"),
	cursor: param("next_cursor of the previous page"),
}) satisfies QuerySchema;

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

/** The dimensions `group_by` takes; minute, hour and day are UTC time buckets. */
export const USAGE_DIMENSIONS = [
	"key",
	"tenant",
	"model",
	"provider",
	"account",
	"status",
	"minute",
	"hour",
	"day",
] as const;
export type UsageDimension = (typeof USAGE_DIMENSIONS)[number];
const TIME_BUCKETS: readonly UsageDimension[] = ["minute", "hour", "day"];
/** More dimensions multiply the rows past what a chart or a table can show. */
export const USAGE_MAX_DIMENSIONS = 3;
/** Rows in one answer; beyond it the answer says `truncated: true`. */
export const USAGE_MAX_ROWS = 10_000;
/** A minute-bucket query spans at most this: 10,080 points per series. */
export const MINUTE_BUCKET_MAX_SPAN_MS = 7 * 86_400_000;

/** Fixed SQL per dimension (the user's choice only selects among these), as answer columns. */
const DIMENSION_SQL: Record<UsageDimension, [column: string, expr: string][]> = {
	key: [["key_id", "key_id"]],
	tenant: [["tenant_id", "tenant_id"]],
	model: [["model", "model"]],
	provider: [["provider", "provider"]],
	// account names are unique within a provider only
	account: [
		["provider", "provider"],
		["account", "account"],
	],
	status: [["status", "status"]],
	// the three-argument date_trunc cuts in UTC whatever the session's time zone
	minute: [["bucket", "date_trunc('minute', ts, 'UTC')"]],
	hour: [["bucket", "date_trunc('hour', ts, 'UTC')"]],
	day: [["bucket", "date_trunc('day', ts, 'UTC')"]],
};

/** The metric columns of every usage row, in answer (and CSV) order. */
export const USAGE_METRICS = [
	"requests",
	"errors",
	"unpriced_requests",
	"prompt_tokens",
	"completion_tokens",
	"total_tokens",
	"cost_usd",
	"latency_ms_p50",
	"latency_ms_p95",
	"latency_ms_p99",
	"ttft_ms_p50",
	"ttft_ms_p95",
	"ttft_ms_p99",
] as const;

/** GET /admin/usage parameters. */
export const UsageParams = Type.Object({
	group_by: param(
		"a comma list of up to 3 of key, tenant, model, provider, account, status, minute, hour, day (one time bucket at most); absent = one total row",
	),
	key_id: param("a key id"),
	tenant_id: param("a tenant id"),
	model: param("a model (as routed upstream)"),
	provider: param("a provider name"),
	account: param("an account name (names repeat across providers: combine with provider)"),
	status: param("an HTTP status code, 2xx, 4xx, 5xx, or error (400 and above)"),
	since: param(SINCE),
	until: param(UNTIL),
	format: param("json (default) or csv; Accept: text/csv also gives CSV"),
}) satisfies QuerySchema;

export interface UsageQuery {
	/** Comma list of dimensions; absent = one total row. */
	group_by?: string;
	key_id?: string;
	tenant_id?: string;
	model?: string;
	provider?: string;
	/** An account name (combine with `provider`: names repeat across providers). */
	account?: string;
	/** An exact code, a class (`2xx`, `4xx`, `5xx`) or `error` (400 and above). */
	status?: string;
	since?: string | number | Date;
	until?: string | number | Date;
}

export interface UsageRow {
	key_id?: string | null;
	tenant_id?: string | null;
	model?: string | null;
	provider?: string | null;
	account?: string | null;
	status?: number;
	/** ISO start of the time bucket (UTC). */
	bucket?: string;
	requests: number;
	/** Status 400 and above. */
	errors: number;
	/** Rows whose model had no price: their cost is unknown and not in `cost_usd`. */
	unpriced_requests: number;
	prompt_tokens: number;
	completion_tokens: number;
	total_tokens: number;
	/** Sum of the priced rows; null when no row of the group is priced. */
	cost_usd: number | null;
	latency_ms_p50: number | null;
	latency_ms_p95: number | null;
	latency_ms_p99: number | null;
	/** Over the rows with a time to first token (streams). */
	ttft_ms_p50: number | null;
	ttft_ms_p95: number | null;
	ttft_ms_p99: number | null;
}

export interface UsageAnswer {
	object: "list";
	group_by: UsageDimension[];
	/** The window as applied (relative times resolved), ISO; null = unbounded. */
	since: string | null;
	until: string | null;
	/** True when more than USAGE_MAX_ROWS groups matched: narrow the window or the dimensions. */
	truncated: boolean;
	/** The group columns of `group_by`, in order, then USAGE_METRICS. */
	columns: string[];
	data: UsageRow[];
}

function parseDimensions(groupBy: string | undefined): UsageDimension[] {
	if (groupBy === undefined || groupBy.trim() === "") return [];
	const dims = groupBy.split(",").map((d) => d.trim());
	for (const d of dims) {
		if (!(USAGE_DIMENSIONS as readonly string[]).includes(d))
			throw invalid("group_by", `group_by takes a comma list of ${USAGE_DIMENSIONS.join(", ")}; '${d}' is not one`);
	}
	if (new Set(dims).size !== dims.length) throw invalid("group_by", "group_by names a dimension twice");
	if (dims.length > USAGE_MAX_DIMENSIONS)
		throw invalid("group_by", `group_by takes at most ${USAGE_MAX_DIMENSIONS} dimensions`);
	if (dims.filter((d) => TIME_BUCKETS.includes(d as UsageDimension)).length > 1)
		throw invalid("group_by", "group_by takes at most one time bucket (minute, hour or day)");
	return dims as UsageDimension[];
}

/** `status`: the SQL condition; `error` and 4xx/5xx use the partial index on status >= 400. */
function statusCondition(sql: Sql, status: string) {
	if (status === "error") return sql`status >= 400`;
	const cls = /^([1-5])xx$/.exec(status);
	if (cls) return sql`status >= ${Number(cls[1]) * 100} and status < ${Number(cls[1]) * 100 + 100}`;
	if (/^[1-5]\d\d$/.test(status)) return sql`status = ${Number(status)}`;
	throw invalid("status", "status must be an HTTP status code, 2xx, 4xx, 5xx or error");
}

const numOrNull = (v: unknown) => (v === null || v === undefined ? null : Number(v));

/**
 * Aggregates request_logs over any filters and up to three dimensions, one of them a UTC time
 * bucket. Sorted by bucket (oldest first), then by cost (highest first). The filters on key,
 * model, status and time use request_logs' indexes, and a time window prunes its daily
 * partitions.
 */
export async function queryUsage(target: SqlOrDb, q: UsageQuery, now = Date.now()): Promise<UsageAnswer> {
	const sql = toSql(target);
	const dims = parseDimensions(q.group_by);
	const sinceMs = parseTimeParam(q.since, "since", now);
	const untilMs = parseTimeParam(q.until, "until", now);
	if (sinceMs !== null && untilMs !== null && sinceMs > untilMs) throw invalid("since", "since is after until");
	if (dims.includes("minute")) {
		if (sinceMs === null || (untilMs ?? now) - sinceMs > MINUTE_BUCKET_MAX_SPAN_MS)
			throw invalid("since", "minute buckets need a window of at most 7 days: set since (and until)");
	}
	const conds = [sql`true`];
	const eq: [keyof UsageQuery, string][] = [
		["key_id", "key_id"],
		["tenant_id", "tenant_id"],
		["model", "model"],
		["provider", "provider"],
		["account", "account"],
	];
	for (const [field, column] of eq) {
		const v = q[field];
		if (typeof v === "string" && v !== "") conds.push(sql`${sql(column)} = ${v}`);
	}
	if (q.status) conds.push(statusCondition(sql, q.status));
	if (sinceMs !== null) conds.push(sql`ts >= ${new Date(sinceMs).toISOString()}::timestamptz`);
	if (untilMs !== null) conds.push(sql`ts < ${new Date(untilMs).toISOString()}::timestamptz`);
	const where = conds.reduce((acc, c) => sql`${acc} and ${c}`);

	const groups = new Map<string, string>();
	for (const d of dims) for (const [column, expr] of DIMENSION_SQL[d]) groups.set(column, expr);
	const columns = [...groups.keys()];
	// bucket travels as epoch ms: timestamptz parsing differs between postgres.js setups
	const selectGroups = columns.map((c) =>
		c === "bucket"
			? sql`(extract(epoch from ${sql.unsafe(groups.get(c) as string)}) * 1000)::float8 as bucket`
			: sql`${sql.unsafe(groups.get(c) as string)} as ${sql(c)}`,
	);
	const groupBy = columns.length > 0 ? sql`group by ${sql.unsafe(columns.map((_, i) => i + 1).join(", "))}` : sql``;
	const orderGroups = columns.filter((c) => c !== "bucket").map((c) => sql`${sql(c)} asc nulls last`);
	const order = [
		...(groups.has("bucket") ? [sql`bucket asc`] : []),
		sql`cost_usd desc nulls last`,
		sql`requests desc`,
		...orderGroups,
	].reduce((acc, o) => sql`${acc}, ${o}`);
	// one ordered-set aggregate per measure: Postgres computes identical aggregates once
	const pct = (column: string, i: number) =>
		sql`(percentile_cont(array[0.5, 0.95, 0.99]::float8[]) within group (order by ${sql(column)}))[${sql.unsafe(String(i))}]::float8`;
	const rows = await sql<Record<string, unknown>[]>`
		select ${selectGroups.reduce((acc, s) => sql`${acc} ${s},`, sql``)}
			count(*)::bigint as requests,
			count(*) filter (where status >= 400)::bigint as errors,
			count(*) filter (where cost_usd is null)::bigint as unpriced_requests,
			coalesce(sum(prompt_tokens), 0)::bigint as prompt_tokens,
			coalesce(sum(completion_tokens), 0)::bigint as completion_tokens,
			coalesce(sum(total_tokens), 0)::bigint as total_tokens,
			sum(cost_usd)::float8 as cost_usd,
			${pct("latency_ms", 1)} as latency_ms_p50,
			${pct("latency_ms", 2)} as latency_ms_p95,
			${pct("latency_ms", 3)} as latency_ms_p99,
			${pct("ttft_ms", 1)} as ttft_ms_p50,
			${pct("ttft_ms", 2)} as ttft_ms_p95,
			${pct("ttft_ms", 3)} as ttft_ms_p99
		from request_logs where ${where}
		${groupBy}
		order by ${order}
		limit ${USAGE_MAX_ROWS + 1}`;
	const data = rows.slice(0, USAGE_MAX_ROWS).map((r) => {
		const row: Record<string, unknown> = {};
		for (const c of columns) {
			if (c === "bucket") row.bucket = new Date(Math.round(Number(r.bucket))).toISOString();
			else if (c === "status") row.status = Number(r.status);
			else row[c] = r[c] ?? null;
		}
		for (const m of USAGE_METRICS) {
			row[m] = m === "cost_usd" || m.includes("_ms_") ? numOrNull(r[m]) : Number(r[m]);
		}
		return row as unknown as UsageRow;
	});
	return {
		object: "list",
		group_by: dims,
		since: sinceMs === null ? null : new Date(sinceMs).toISOString(),
		until: untilMs === null ? null : new Date(untilMs).toISOString(),
		truncated: rows.length > USAGE_MAX_ROWS,
		columns: [...columns, ...USAGE_METRICS],
		data,
	};
}
