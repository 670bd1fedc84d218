import type { Sql } from "postgres";
import type { UsageEvent } from "../usage/usage-event.ts";

const COLUMNS = [
	"ts",
	"request_id",
	"client_request_id",
	"key_id",
	"tenant_id",
	"endpoint",
	"requested_model",
	"provider",
	"account",
	"model",
	"stream",
	"status",
	"error_code",
	"attempts",
	"latency_ms",
	"ttft_ms",
	"prompt_tokens",
	"completion_tokens",
	"cached_tokens",
	"cache_write_tokens",
	"reasoning_tokens",
	"total_tokens",
	"cost_usd",
	"incomplete",
	"user_agent",
] as const;

const COLUMN_LIST = COLUMNS.join(", ");

/** What Postgres text cannot hold: NUL, and lone UTF-16 surrogates (not valid UTF-8). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding NUL is the point
const UNSTORABLE = /[\u0000\ud800-\udfff]/;

/**
 * A client can put a NUL or a lone surrogate in a model name; Postgres would reject the
 * whole batch, and the writer would retry it forever. Such characters become U+FFFD.
 */
function storableText(v: string): string {
	return v.toWellFormed().replaceAll("\u0000", "\ufffd");
}

/** One value in COPY's text format: \N for null, backslash escapes for the separators. */
function copyValue(v: unknown): string {
	if (v === null || v === undefined) return "\\N";
	if (typeof v !== "string") return String(v);
	const s = UNSTORABLE.test(v) ? storableText(v) : v;
	return COPY_SPECIAL.test(s) ? s.replace(COPY_SPECIAL_ALL, (c) => COPY_ESCAPES[c] ?? c) : s;
}
const COPY_SPECIAL = /[\\\n\r\t]/;
const COPY_SPECIAL_ALL = /[\\\n\r\t]/g;
const COPY_ESCAPES: Record<string, string> = { "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** The batch as COPY text: one line per row, tab-separated, in COLUMNS order. */
export function copyText(events: readonly UsageEvent[]): string {
	let out = "";
	for (const e of events) {
		out += new Date(e.ts).toISOString();
		const row = e as unknown as Record<string, unknown>;
		for (let i = 1; i < COLUMNS.length; i++) out += `\t${copyValue(row[COLUMNS[i] as string])}`;
		out += "\n";
	}
	return out;
}

/**
 * The fast path for fresh rows: COPY costs Postgres about 40% less CPU per row than the
 * INSERT … SELECT below (measured: 9 vs 15 µs per row). COPY has no ON CONFLICT, so it is
 * only for rows never sent before: the caller falls back to insertRequestLogs after any
 * failure (a batch whose commit is in doubt, a duplicate). All or nothing, like any statement.
 */
export async function copyRequestLogs(sql: Sql, events: readonly UsageEvent[]): Promise<number> {
	if (events.length === 0) return 0;
	const text = copyText(events);
	const stream = await sql.unsafe(`COPY request_logs (${COLUMN_LIST}) FROM STDIN`).writable();
	await new Promise<void>((resolve, reject) => {
		stream.on("error", reject);
		stream.on("finish", resolve);
		stream.end(text);
	});
	return events.length;
}

/**
 * Inserts usage events, skipping request ids already stored (replays are harmless).
 * The whole batch travels as ONE json parameter expanded by json_populate_recordset:
 * one statement text for every batch size (prepared once), no 65,535-parameter ceiling,
 * and measured faster than a multi-row VALUES list (see the report in the PR).
 * Returns the number of rows actually inserted.
 */
export async function insertRequestLogs(
	sql: Sql,
	events: readonly UsageEvent[],
): Promise<number> {
	if (events.length === 0) return 0;
	const rows = events.map((e) => {
		const row: Record<string, unknown> = { ...e, ts: new Date(e.ts).toISOString() };
		for (const c in row) {
			const v = row[c];
			if (typeof v === "string" && UNSTORABLE.test(v)) row[c] = storableText(v);
		}
		return row;
	});
	const res = await sql.unsafe(
		`INSERT INTO request_logs (${COLUMN_LIST})
		 SELECT ${COLUMN_LIST} FROM json_populate_recordset(NULL::request_logs, $1::json)
		 ON CONFLICT (request_id, ts) DO NOTHING`,
		[JSON.stringify(rows)],
	);
	return res.count;
}
