import type { Sql } from "postgres";
import { REQUEST_LOG_COLUMNS as COLUMNS, storableText, UNSTORABLE } from "./copy-line.ts";
import type { UsageEvent } from "./usage-event.ts";

const COLUMN_LIST = COLUMNS.join(", ");

/**
 * The fast path for fresh rows: COPY costs Postgres about 40% less CPU per row than the
 * INSERT … SELECT below (measured: 9 vs 15 µs per row). COPY has no ON CONFLICT, so it is
 * only for rows never sent before: the caller falls back to insertRequestLogs after any
 * failure (a batch whose commit is in doubt, a duplicate). All or nothing, like any statement.
 * The rows arrive as COPY lines (see copy-line.ts), built by the HTTP workers.
 */
export async function copyRequestLogs(sql: Sql, lines: readonly string[]): Promise<number> {
	if (lines.length === 0) return 0;
	const text = lines.join("");
	const stream = await sql.unsafe(`COPY request_logs (${COLUMN_LIST}) FROM STDIN`).writable();
	await new Promise<void>((resolve, reject) => {
		stream.on("error", reject);
		stream.on("finish", resolve);
		stream.end(text);
	});
	return lines.length;
}

/**
 * Inserts usage events, skipping request ids already stored (replays are harmless).
 * The whole batch travels as ONE json parameter expanded by json_populate_recordset:
 * one statement text for every batch size (prepared once), no 65,535-parameter ceiling,
 * and measured faster than a multi-row VALUES list (see the report in the PR).
 * Returns the number of rows actually inserted.
 */
export async function insertRequestLogs(sql: Sql, events: readonly UsageEvent[]): Promise<number> {
	if (events.length === 0) return 0;
	const rows = events.map((e) => {
		// spool files written before usage_source existed carry no value for it
		const row: Record<string, unknown> = {
			...e,
			ts: new Date(e.ts).toISOString(),
			usage_source: e.usage_source ?? "upstream",
		};
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
