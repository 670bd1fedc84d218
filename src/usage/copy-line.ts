import type { UsageEvent } from "./usage-event.ts";

/**
 * A usage row as one line of COPY's text format: what HTTP workers send to the audit writer
 * (instead of JSON) and what the writer streams to Postgres as it is. Neither side parses or
 * re-serialises anything on the normal path; `parseCopyLine` turns a line back into an event
 * only for the rare paths (the idempotent INSERT after a failed write, the spool file).
 */

/** request_logs columns in COPY order, with how each is written. */
const COLUMN_KINDS = [
	["ts", "ts"],
	["request_id", "text"],
	["client_request_id", "text"],
	["key_id", "text"],
	["tenant_id", "text"],
	["endpoint", "text"],
	["requested_model", "text"],
	["provider", "text"],
	["account", "text"],
	["model", "text"],
	["stream", "bool"],
	["status", "num"],
	["error_code", "text"],
	["attempts", "num"],
	["latency_ms", "num"],
	["ttft_ms", "num"],
	["prompt_tokens", "num"],
	["completion_tokens", "num"],
	["cached_tokens", "num"],
	["cache_write_tokens", "num"],
	["reasoning_tokens", "num"],
	["total_tokens", "num"],
	["cost_usd", "num"],
	["incomplete", "bool"],
	["user_agent", "text"],
	["usage_source", "text"],
] as const satisfies readonly (readonly [keyof UsageEvent, "ts" | "text" | "num" | "bool"])[];

export const REQUEST_LOG_COLUMNS = COLUMN_KINDS.map(([c]) => c);

/** What Postgres text cannot hold: NUL, and lone UTF-16 surrogates (not valid UTF-8). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding NUL is the point
export const UNSTORABLE = /[\u0000\ud800-\udfff]/;

/**
 * A client can put a NUL or a lone surrogate in a model name; Postgres would reject the
 * whole batch, and the writer would retry it forever. Such characters become U+FFFD.
 */
export function storableText(v: string): string {
	return v.toWellFormed().replaceAll("\u0000", "\ufffd");
}

const ESCAPES: Record<string, string> = { "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t" };
const UNESCAPES: Record<string, string> = { "\\": "\\", n: "\n", r: "\r", t: "\t" };
/** Anything a text value needs changed for COPY: a separator to escape or a character to replace. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding NUL is the point
const NEEDS_WORK = /[\\\n\r\t\u0000\ud800-\udfff]/;
const SPECIAL_ALL = /[\\\n\r\t]/g;

/** A text value in COPY's text format: \N for null, separators escaped, unstorable text replaced. */
function text(v: string | null | undefined): string {
	if (v == null) return "\\N";
	if (!NEEDS_WORK.test(v)) return v;
	const s = UNSTORABLE.test(v) ? storableText(v) : v;
	return s.replace(SPECIAL_ALL, (c) => ESCAPES[c] ?? c);
}

/** A number column (finite by construction: tokens are normalised, timings are measured). */
const num = (v: number | null | undefined): string => (v == null ? "\\N" : String(v));

/**
 * `ts` as ISO-8601 UTC with milliseconds. The part up to the second is cached: at any real
 * rate most rows share their second with the previous one.
 */
let isoSecond = Number.NaN;
let isoPrefix = "";
function isoTime(ms: number): string {
	const second = Math.floor(ms / 1000);
	if (second !== isoSecond) {
		isoSecond = second;
		isoPrefix = new Date(second * 1000).toISOString().slice(0, 20);
	}
	const milli = ms - second * 1000;
	return `${isoPrefix}${milli < 10 ? "00" : milli < 100 ? "0" : ""}${Math.floor(milli)}Z`;
}

/**
 * The event as one COPY line, newline included. Written out field by field, in
 * COLUMN_KINDS order (a test reads lines back through parseCopyLine, which walks that list):
 * this runs once per request on the HTTP worker, and the unrolled form costs about a third of
 * a loop over the column list.
 */
export function copyLine(e: UsageEvent): string {
	return `${isoTime(e.ts)}\t${text(e.request_id)}\t${text(e.client_request_id)}\t${text(e.key_id)}\t${text(e.tenant_id)}\t${text(e.endpoint)}\t${text(e.requested_model)}\t${text(e.provider)}\t${text(e.account)}\t${text(e.model)}\t${e.stream}\t${e.status}\t${text(e.error_code)}\t${e.attempts}\t${e.latency_ms}\t${num(e.ttft_ms)}\t${e.prompt_tokens}\t${e.completion_tokens}\t${e.cached_tokens}\t${e.cache_write_tokens}\t${e.reasoning_tokens}\t${e.total_tokens}\t${num(e.cost_usd)}\t${e.incomplete}\t${text(e.user_agent)}\t${e.usage_source}\n`;
}

/** The event a COPY line stands for (the inverse of copyLine). */
export function parseCopyLine(line: string): UsageEvent {
	const fields = (line.endsWith("\n") ? line.slice(0, -1) : line).split("\t");
	if (fields.length !== COLUMN_KINDS.length)
		throw new Error(`usage line has ${fields.length} fields, not ${COLUMN_KINDS.length}`);
	const out: Record<string, unknown> = {};
	for (let i = 0; i < COLUMN_KINDS.length; i++) {
		const [name, kind] = COLUMN_KINDS[i];
		const f = fields[i];
		if (f === "\\N") out[name] = null;
		else if (kind === "ts") out[name] = Date.parse(f);
		else if (kind === "num") out[name] = Number(f);
		else if (kind === "bool") out[name] = f === "true";
		else out[name] = f.includes("\\") ? f.replace(/\\(.)/g, (_, c: string) => UNESCAPES[c] ?? c) : f;
	}
	return out as unknown as UsageEvent;
}

/** Splits a block of COPY lines into lines, each keeping its newline. */
export function splitCopyLines(block: string): string[] {
	const out: string[] = [];
	let start = 0;
	for (;;) {
		const nl = block.indexOf("\n", start);
		if (nl === -1) break;
		out.push(block.slice(start, nl + 1));
		start = nl + 1;
	}
	return out;
}
