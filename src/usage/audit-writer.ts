/**
 * The audit writer: batches usage rows into request_logs by size and by time, and never loses
 * one. While Postgres is unreachable rows wait in a bounded queue, the overflow goes to an
 * append-only spool file, and the spool is replayed (idempotently, ON CONFLICT DO NOTHING) once
 * Postgres answers again. It runs in its own thread (workers/audit-writer.ts is that thread's
 * shell); tests drive it directly.
 */
import postgres from "postgres";
import { createDb, type Db, isEmbeddedUrl } from "../db/client.ts";
import { AuditDeadLetter, isDataError } from "./audit-dead-letter.ts";
import { type AuditInit, type AuditWriterStats, emptyAuditStats } from "./audit-protocol.ts";
import { AuditSpool } from "./audit-spool.ts";
import { copyLine, parseCopyLine, splitCopyLines } from "./copy-line.ts";
import { copyRequestLogs, insertRequestLogs } from "./insert-request-logs.ts";
import type { UsageEvent } from "./usage-event.ts";

const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 5_000;
/** Rows per INSERT when replaying the spool: bigger than live batches, nothing waits on it. */
const REPLAY_CHUNK = 2_000;
const FLUSH_DEADLINE_MS = 5_000;

export type AuditWriterConfig = Omit<AuditInit, "type">;

function withDeadline(p: Promise<boolean>, ms: number): Promise<boolean> {
	let timer: ReturnType<typeof setTimeout> | undefined;
	const late = new Promise<boolean>((resolve) => {
		timer = setTimeout(() => resolve(false), ms);
	});
	return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

export class AuditWriter {
	private readonly cfg: AuditWriterConfig;
	private readonly spool: AuditSpool;
	private readonly deadLetter: AuditDeadLetter;
	private db: Db;
	/** Rows waiting for Postgres, as COPY lines (what the HTTP workers send). */
	private queue: string[] = [];
	/** Bumped whenever the queue is spooled wholesale, so an old in-flight write leaves it alone. */
	private queueGeneration = 0;
	private draining: Promise<boolean> | null = null;
	private down = false;
	private stopping = false;
	private backoffMs = 0;
	private flushTimer: ReturnType<typeof setTimeout> | null = null;
	private retryTimer: ReturnType<typeof setTimeout> | null = null;
	/**
	 * Fresh rows go in by COPY (cheapest for Postgres). After any failed write the next writes
	 * use the idempotent INSERT … ON CONFLICT until one succeeds: the failed batch may have
	 * committed. PGlite's socket server has no COPY FROM STDIN: the embedded database always
	 * takes the INSERT.
	 */
	private insertOnly = false;
	private readonly copyAllowed: boolean;
	/** A batch that fails later is read again: each bad line is counted once. */
	private readonly countedBadLines = new Set<string>();
	// queueDepth and down are live values; the rest accumulate here
	private readonly counters = emptyAuditStats();

	/** `spoolName` keeps each writer's spool files apart when several share a data directory. */
	constructor(cfg: AuditWriterConfig, spoolName: string) {
		this.cfg = { ...cfg, maxQueue: Math.max(cfg.maxQueue, cfg.batchSize) };
		this.spool = new AuditSpool(cfg.dataDir, spoolName);
		this.deadLetter = new AuditDeadLetter(cfg.dataDir, spoolName);
		const left = this.spool.measure();
		this.counters.spoolBytes = left.bytes;
		this.counters.spoolPending = left.rows;
		this.db = this.openDb();
		this.copyAllowed = !isEmbeddedUrl(cfg.databaseUrl);
		// Spool left by a previous run (or a crash): replay now, in the background.
		if (left.rows > 0) void this.drain();
	}

	stats(): AuditWriterStats {
		return { ...this.counters, queueDepth: this.queue.length, down: this.down };
	}

	/** Records an error that happened outside any write (a pool reconnecting, say). */
	noteError(message: string): void {
		this.counters.lastError = message;
	}

	addEvents(events: readonly UsageEvent[]): void {
		for (const e of events) this.queue.push(copyLine(e));
		this.enforceBound();
		this.scheduleFlush();
	}

	/** Rows as COPY lines, newline-separated, as HTTP workers send them. */
	addLines(lines: string): void {
		for (const line of splitCopyLines(lines)) this.queue.push(line);
		this.enforceBound();
		this.scheduleFlush();
	}

	/** Shutdown/explicit flush: everything reaches Postgres, or else the spool file. */
	async flush(): Promise<{ ok: boolean; pending: number }> {
		if (this.retryTimer) {
			clearTimeout(this.retryTimer);
			this.retryTimer = null;
		}
		// A write stuck on a half-open connection must not hold the shutdown: past the deadline
		// the queue goes to the spool (rows the stuck write still commits are skipped on replay).
		let ok = await withDeadline(this.drain(), FLUSH_DEADLINE_MS);
		// A drain already in flight may have started before the latest rows arrived.
		if (ok && this.queue.length > 0) ok = await withDeadline(this.drain(), FLUSH_DEADLINE_MS);
		if (!ok) {
			this.spoolRows(this.queue);
			this.queue = [];
			this.queueGeneration++;
			if (!this.stopping) this.scheduleRetry();
		}
		return { ok, pending: ok ? 0 : this.counters.spoolPending };
	}

	/** Flushes, leaves what could not be written to the next writer, and closes the pool. */
	async stop(): Promise<void> {
		this.stopping = true;
		await this.flush();
		this.spool.release();
		await this.db.sql.end({ timeout: 2 }).catch(() => {});
	}

	private openDb(): Db {
		// Two connections: one live batch and one spool replay can overlap.
		return createDb(this.cfg.databaseUrl, { max: 2, connectTimeout: 3 });
	}

	/** Insert with a deadline: a half-open socket must not stall the writer forever. */
	private async write(lines: readonly string[] | null, events: readonly UsageEvent[] | null): Promise<number> {
		const timeoutMs = this.cfg.insertTimeoutMs ?? 10_000;
		let timer: ReturnType<typeof setTimeout> | undefined;
		const timeout = new Promise<never>((_, reject) => {
			timer = setTimeout(() => reject(new Error(`insert timed out after ${timeoutMs} ms`)), timeoutMs);
		});
		try {
			if (lines && this.copyAllowed && !this.insertOnly) {
				try {
					return await Promise.race([copyRequestLogs(this.db.sql, lines), timeout]);
				} catch (err) {
					// a row already stored (unique violation) or bad data: redo the batch idempotently;
					// anything else (connection, timeout) is a failure of this write
					if (!(err instanceof postgres.PostgresError)) throw err;
					if (err.code !== "23505") this.counters.lastError = `COPY failed, batch inserted instead: ${err.message}`;
				}
			}
			const rows = events ?? this.eventsOf(lines ?? []);
			return await Promise.race([insertRequestLogs(this.db.sql, rows), timeout]);
		} catch (err) {
			this.insertOnly = true;
			if (String(err).includes("timed out")) {
				// The stuck query may still commit; that is fine (idempotent), but its
				// connection is useless: start a fresh pool.
				const old = this.db;
				this.db = this.openDb();
				old.sql.end({ timeout: 0 }).catch(() => {});
			}
			throw err;
		} finally {
			clearTimeout(timer);
		}
	}

	/**
	 * Writes rows, telling bad data from an outage. When Postgres refuses the batch for its data
	 * (isDataError), the batch is halved until each bad row stands alone: those go to the dead
	 * letter and every other row lands (a batch of 500 with one bad row costs about 18
	 * statements, once). Any other failure is thrown: Postgres is away, retry later.
	 */
	private async writeIsolating<T extends string | UsageEvent>(
		rows: readonly T[],
		write: (rows: readonly T[]) => Promise<number>,
	): Promise<number> {
		try {
			return await write(rows);
		} catch (err) {
			if (!isDataError(err)) throw err;
			if (rows.length === 1) {
				const where = await this.deadLetterRow(rows[0] as T, err);
				this.counters.lastError = `usage row refused by Postgres (${err.code}: ${err.message}), set aside in the dead-letter ${where}`;
				return 0;
			}
			const mid = rows.length >> 1;
			const head = await this.writeIsolating(rows.slice(0, mid), write);
			return head + (await this.writeIsolating(rows.slice(mid), write));
		}
	}

	private async deadLetterRow(row: string | UsageEvent, err: Parameters<AuditDeadLetter["put"]>[2]): Promise<string> {
		try {
			const where = await this.deadLetter.put(this.db.sql, row, err);
			this.counters.rowsDeadLettered++;
			return where;
		} catch (diskErr) {
			this.counters.rowsDropped++;
			return `file, which failed too (${String(diskErr)}): row lost`;
		}
	}

	private readonly writeLines = (lines: readonly string[]) => this.write(lines, null);
	private readonly writeEvents = (events: readonly UsageEvent[]) => this.write(null, events);

	/**
	 * COPY lines back to events, for the INSERT and the spool. A line that does not parse (only a
	 * bug could make one) is dropped and counted, so it cannot wedge the writer in a retry loop.
	 */
	private eventsOf(lines: readonly string[]): UsageEvent[] {
		const out: UsageEvent[] = [];
		for (const line of lines) {
			try {
				out.push(parseCopyLine(line));
			} catch (err) {
				if (this.countedBadLines.has(line)) continue;
				if (this.countedBadLines.size >= 1_000) this.countedBadLines.clear();
				this.countedBadLines.add(line);
				this.counters.rowsDropped++;
				this.counters.lastError = `unreadable usage line dropped: ${String((err as Error)?.message ?? err)}`;
			}
		}
		return out;
	}

	private spoolRows(lines: readonly string[]): void {
		if (lines.length === 0) return;
		const rows = this.eventsOf(lines);
		try {
			this.counters.spoolBytes += this.spool.append(rows);
			this.counters.rowsSpooled += rows.length;
			this.counters.spoolPending += rows.length;
		} catch (err) {
			// Disk full or unwritable: the one case where rows are lost.
			this.counters.rowsDropped += rows.length;
			this.counters.lastError = `spool append failed: ${String(err)}`;
		}
	}

	/**
	 * Keeps memory bounded: whatever exceeds the bound (newest rows) goes to disk. While
	 * Postgres is down the bound shrinks to one batch, so a crash during an outage loses at
	 * most one batch of rows, not a whole queue.
	 */
	private enforceBound(): void {
		const bound = this.down ? this.cfg.batchSize : this.cfg.maxQueue;
		if (this.queue.length > bound) this.spoolRows(this.queue.splice(bound));
	}

	private markUp(): void {
		this.down = false;
		this.insertOnly = false;
		this.backoffMs = 0;
	}

	private markDown(err: unknown): void {
		this.down = true;
		this.enforceBound();
		this.counters.lastError = String((err as Error)?.message ?? err);
		this.backoffMs = this.backoffMs ? Math.min(this.backoffMs * 2, BACKOFF_MAX_MS) : BACKOFF_MIN_MS;
		this.scheduleRetry();
	}

	private scheduleRetry(): void {
		if (this.retryTimer || this.stopping) return;
		// Jitter (50-100%) so writers of several instances do not reconnect in lockstep.
		const delay = this.backoffMs / 2 + Math.random() * (this.backoffMs / 2);
		this.retryTimer = setTimeout(() => {
			this.retryTimer = null;
			void this.drain();
		}, delay);
	}

	private scheduleFlush(): void {
		if (this.down || this.stopping) return; // the retry timer owns the next attempt
		if (this.queue.length >= this.cfg.batchSize) {
			void this.drain();
		} else if (this.queue.length > 0 && !this.flushTimer) {
			this.flushTimer = setTimeout(() => {
				this.flushTimer = null;
				void this.drain();
			}, this.cfg.flushIntervalMs);
		}
	}

	private async replaySpool(): Promise<void> {
		const files = this.spool.replayable();
		if (files.length === 0) return;
		this.spool.seal(); // new overflow goes to a fresh file while these are replayed
		for (const path of files) {
			const file = this.spool.read(path);
			for (let i = 0; i < file.rows.length; i += REPLAY_CHUNK) {
				// rows read back from the spool: always the idempotent INSERT
				await this.writeIsolating(file.rows.slice(i, i + REPLAY_CHUNK), this.writeEvents);
				this.counters.batchesWritten++;
			}
			this.spool.remove(path);
			this.counters.rowsReplayed += file.rows.length;
			this.counters.rowsDropped += file.corrupt;
			this.counters.spoolPending = Math.max(0, this.counters.spoolPending - file.rows.length - file.corrupt);
		}
		const left = this.spool.measure();
		this.counters.spoolBytes = left.bytes;
		this.counters.spoolPending = left.rows;
	}

	/** Writes the whole queue, then replays the spool. Single flight; false if Postgres failed. */
	private drain(): Promise<boolean> {
		if (this.draining) return this.draining;
		if (this.flushTimer) {
			clearTimeout(this.flushTimer);
			this.flushTimer = null;
		}
		this.draining = (async () => {
			try {
				while (this.queue.length > 0) {
					const generation = this.queueGeneration;
					const batch = this.queue.slice(0, this.cfg.batchSize);
					const inserted = await this.writeIsolating(batch, this.writeLines);
					// Only now leave memory: a failed batch stays at the head of the queue. If a
					// flush gave up on this insert meanwhile, the queue was spooled and replaced.
					if (generation === this.queueGeneration) this.queue.splice(0, batch.length);
					this.counters.batchesWritten++;
					this.counters.rowsWritten += inserted;
					this.markUp();
				}
				await this.replaySpool();
				this.markUp();
				return true;
			} catch (err) {
				this.markDown(err);
				this.enforceBound();
				return false;
			} finally {
				this.draining = null;
			}
		})();
		return this.draining.then((ok) => {
			this.scheduleFlush();
			return ok;
		});
	}
}
