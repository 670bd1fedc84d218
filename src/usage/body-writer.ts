/**
 * Writes request and response bodies to request_bodies, on its own thread (workers/body-writer.ts)
 * so that decoding, stream reassembly and redaction never run on a request's thread, and apart
 * from the usage writer so that usage rows never wait on bodies. Bodies are best-effort: a
 * full queue or a batch Postgres keeps refusing drops them, counted; nothing is spooled.
 */
import type { Sql } from "postgres";
import { createDb, type Db } from "../db/client.ts";
import { createRedactor, type Redactor } from "../logging/redact-secrets.ts";
import { type BodyWriterInit, type BodyWriterStats, emptyBodyStats } from "./body-protocol.ts";
import type { CapturedResponse, RequestBodyEvent } from "./request-body-event.ts";
import { reassembleStream } from "./stream-reassembly.ts";

export type BodyWriterConfig = Omit<BodyWriterInit, "type">;

/** Attempts per batch before its bodies are dropped. */
const MAX_ATTEMPTS = 3;
const RETENTION_EVERY_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** Read past the cap before redaction: a secret straddling the cap is still recognised whole. */
const REDACT_MARGIN = 1_024;

export interface BodyRow {
	request_id: string;
	/** ISO 8601 (the driver takes timestamps as text). */
	ts: string;
	key_id: string | null;
	request_body: string | null;
	response_body: string | null;
	request_truncated: boolean;
	response_truncated: boolean;
	stream: boolean;
}

const utf8 = new TextDecoder();

/** `text` cut to at most `max` UTF-8 bytes, on a character boundary. */
function capBytes(text: string, max: number): { text: string; truncated: boolean } {
	// a UTF-16 unit is at most 3 UTF-8 bytes: most texts need no encoding to know they fit
	if (text.length * 3 <= max) return { text, truncated: false };
	const bytes = Buffer.from(text, "utf8");
	if (bytes.byteLength <= max) return { text, truncated: false };
	let end = max;
	while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
	return { text: bytes.subarray(0, end).toString("utf8"), truncated: true };
}

/** Redacts, then caps; a text much longer than the cap is cut (with a margin) before redaction. */
export function storedText(
	text: string,
	max: number,
	redact: Redactor,
	cutAlready = false,
): { text: string; truncated: boolean } {
	const pre = capBytes(text, max + REDACT_MARGIN);
	const capped = capBytes(redact(pre.text), max);
	return { text: capped.text, truncated: cutAlready || pre.truncated || capped.truncated };
}

function responseText(r: CapturedResponse): { text: string; cut: boolean; stream: boolean } {
	switch (r.kind) {
		case "text":
			return { text: r.text, cut: false, stream: false };
		case "bytes":
			return { text: utf8.decode(r.bytes), cut: false, stream: false };
		case "sse": {
			const whole = reassembleStream(r.chunks);
			const shown = whole.tool_calls.length > 0 ? whole : { text: whole.text };
			return { text: JSON.stringify(shown), cut: r.truncated, stream: true };
		}
	}
}

/** One stored row from what the HTTP worker captured. */
export function bodyRow(ev: RequestBodyEvent, maxBytes: number, redact: Redactor): BodyRow {
	const req = ev.request === null ? null : storedText(ev.request, maxBytes, redact);
	const res = ev.response === null ? null : responseText(ev.response);
	const stored = res === null ? null : storedText(res.text, maxBytes, redact, res.cut);
	return {
		request_id: ev.request_id,
		ts: new Date(ev.ts).toISOString(),
		key_id: ev.key_id,
		request_body: req?.text ?? null,
		response_body: stored?.text ?? null,
		request_truncated: req?.truncated ?? false,
		response_truncated: stored?.truncated ?? false,
		stream: res?.stream ?? false,
	};
}

export async function insertBodies(sql: Sql, rows: readonly BodyRow[]): Promise<void> {
	await sql`insert into request_bodies ${sql(rows as BodyRow[])} on conflict (request_id) do nothing`;
}

/** Deletes bodies older than `days` (whole days before now). */
export async function deleteOldBodies(sql: Sql, days: number, now = Date.now()): Promise<number> {
	const cutoff = new Date(now - days * DAY_MS).toISOString();
	const r = await sql`delete from request_bodies where ts < ${cutoff}::timestamptz`;
	return r.count;
}

export class BodyWriter {
	private readonly cfg: BodyWriterConfig;
	private readonly redact: Redactor;
	private readonly db: Db;
	private queue: RequestBodyEvent[] = [];
	private timer: ReturnType<typeof setTimeout> | null = null;
	private draining: Promise<void> | null = null;
	private readonly retention: ReturnType<typeof setInterval>;
	private readonly counters = emptyBodyStats();

	constructor(cfg: BodyWriterConfig) {
		this.cfg = cfg;
		this.redact = createRedactor(cfg.redactPatterns);
		this.db = createDb(cfg.databaseUrl, { max: 1, connectTimeout: 3 });
		const prune = () =>
			deleteOldBodies(this.db.sql, cfg.retentionDays).catch((err) => {
				this.counters.lastError = `retention: ${String((err as Error)?.message ?? err)}`;
			});
		void prune();
		this.retention = setInterval(prune, RETENTION_EVERY_MS);
	}

	stats(): BodyWriterStats {
		return { ...this.counters, queueDepth: this.queue.length };
	}

	add(events: readonly RequestBodyEvent[]): void {
		for (const ev of events) {
			if (this.queue.length >= this.cfg.maxQueue) this.counters.rowsDropped++;
			else this.queue.push(ev);
		}
		if (this.queue.length >= this.cfg.batchSize) void this.drain();
		else if (this.queue.length > 0 && !this.timer) {
			this.timer = setTimeout(() => void this.drain(), this.cfg.flushIntervalMs);
		}
	}

	/** Writes everything queued (or drops what Postgres will not take). */
	async flush(): Promise<void> {
		while (this.draining || this.queue.length > 0) await this.drain();
	}

	async stop(): Promise<void> {
		clearInterval(this.retention);
		await this.flush();
		await this.db.sql.end({ timeout: 2 }).catch(() => {});
	}

	private drain(): Promise<void> {
		if (this.timer) {
			clearTimeout(this.timer);
			this.timer = null;
		}
		this.draining ??= (async () => {
			while (this.queue.length > 0) {
				const batch = this.queue.splice(0, this.cfg.batchSize);
				await this.write(batch);
			}
		})().finally(() => {
			this.draining = null;
		});
		return this.draining;
	}

	private async write(batch: readonly RequestBodyEvent[]): Promise<void> {
		const rows: BodyRow[] = [];
		for (const ev of batch) {
			try {
				rows.push(bodyRow(ev, this.cfg.maxBodyBytes, this.redact));
			} catch (err) {
				this.counters.rowsDropped++;
				this.counters.lastError = `body not readable: ${String((err as Error)?.message ?? err)}`;
			}
		}
		for (let attempt = 1; rows.length > 0; attempt++) {
			try {
				await insertBodies(this.db.sql, rows);
				this.counters.rowsWritten += rows.length;
				return;
			} catch (err) {
				this.counters.lastError = String((err as Error)?.message ?? err);
				if (attempt >= MAX_ATTEMPTS) {
					this.counters.rowsDropped += rows.length;
					return;
				}
				await Bun.sleep(100 * 2 ** attempt);
			}
		}
	}
}
