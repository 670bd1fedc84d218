/**
 * Audit writer (Bun Worker). Batches usage events into request_logs by size and by time,
 * and never loses one: while Postgres is unreachable rows wait in a bounded queue, the
 * overflow goes to an append-only spool file, and the spool is replayed (idempotently,
 * ON CONFLICT DO NOTHING) once Postgres answers again. Protocol: src/usage/audit-protocol.ts.
 */
import { threadId } from "node:worker_threads";
import postgres from "postgres";
import { createDb, type Db, isEmbeddedUrl } from "../src/db/client.ts";
import { copyLine, parseCopyLine, splitCopyLines } from "../src/db/copy-line.ts";
import { copyRequestLogs, insertRequestLogs } from "../src/db/insert-request-logs.ts";
import {
	type AuditInit,
	emptyAuditStats,
	type FromAuditWriter,
	type ToAuditWriter,
} from "../src/usage/audit-protocol.ts";
import { AuditSpool } from "../src/usage/audit-spool.ts";
import type { UsageEvent } from "../src/usage/usage-event.ts";

declare const self: Worker;

const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 5_000;
/** Rows per INSERT when replaying the spool: bigger than live batches, nothing waits on it. */
const REPLAY_CHUNK = 2_000;

let cfg: AuditInit;
let db: Db;
let spool: AuditSpool;
/** Rows waiting for Postgres, as COPY lines (what the HTTP workers send). */
let queue: string[] = [];
let draining: Promise<boolean> | null = null;
let down = false;
let stopping = false;
let backoffMs = 0;
let flushTimer: ReturnType<typeof setTimeout> | null = null;
let retryTimer: ReturnType<typeof setTimeout> | null = null;
let statsTimer: ReturnType<typeof setInterval> | null = null;

// queueDepth and down are live values; the rest accumulate here
const stats = emptyAuditStats();

const post = (msg: FromAuditWriter) => self.postMessage(msg);
const postStats = () => post({ type: "stats", ...stats, queueDepth: queue.length, down });

function openDb(): Db {
	// Two connections: one live batch and one spool replay can overlap.
	return createDb(cfg.databaseUrl, { max: 2, connectTimeout: 3 });
}

/**
 * Fresh rows go in by COPY (cheapest for Postgres). After any failed write the next writes
 * use the idempotent INSERT … ON CONFLICT until one succeeds: the failed batch may have
 * committed. PGlite's socket server has no COPY FROM STDIN: the embedded database always
 * takes the INSERT.
 */
let insertOnly = false;
let copyAllowed = true;

/** A live batch, as COPY lines: by COPY unless a recent write failed. */
function insert(lines: readonly string[]): Promise<number> {
	return write(lines, null);
}

/** Rows given as events (read back from the spool): always the idempotent INSERT. */
function insertEvents(events: readonly UsageEvent[]): Promise<number> {
	return write(null, events);
}

/** Insert with a deadline: a half-open socket must not stall the writer forever. */
async function write(lines: readonly string[] | null, events: readonly UsageEvent[] | null): Promise<number> {
	const timeoutMs = cfg.insertTimeoutMs ?? 10_000;
	let timer: ReturnType<typeof setTimeout> | undefined;
	const timeout = new Promise<never>((_, reject) => {
		timer = setTimeout(() => reject(new Error(`insert timed out after ${timeoutMs} ms`)), timeoutMs);
	});
	try {
		if (lines && copyAllowed && !insertOnly) {
			try {
				return await Promise.race([copyRequestLogs(db.sql, lines), timeout]);
			} catch (err) {
				// a row already stored (unique violation) or bad data: redo the batch idempotently;
				// anything else (connection, timeout) is a failure of this write
				if (!(err instanceof postgres.PostgresError)) throw err;
				if (err.code !== "23505") stats.lastError = `COPY failed, batch inserted instead: ${err.message}`;
			}
		}
		const rows = events ?? eventsOf(lines ?? []);
		return await Promise.race([insertRequestLogs(db.sql, rows), timeout]);
	} catch (err) {
		insertOnly = true;
		if (String(err).includes("timed out")) {
			// The stuck query may still commit; that is fine (idempotent), but its
			// connection is useless: start a fresh pool.
			const old = db;
			db = openDb();
			old.sql.end({ timeout: 0 }).catch(() => {});
		}
		throw err;
	} finally {
		clearTimeout(timer);
	}
}

/**
 * COPY lines back to events, for the INSERT and the spool. A line that does not parse (only a
 * bug could make one) is dropped and counted, so it cannot wedge the writer in a retry loop.
 */
function eventsOf(lines: readonly string[]): UsageEvent[] {
	const out: UsageEvent[] = [];
	for (const line of lines) {
		try {
			out.push(parseCopyLine(line));
		} catch (err) {
			// a batch that fails later is read again: count each bad line once
			if (countedBadLines.has(line)) continue;
			if (countedBadLines.size >= 1_000) countedBadLines.clear();
			countedBadLines.add(line);
			stats.rowsDropped++;
			stats.lastError = `unreadable usage line dropped: ${String((err as Error)?.message ?? err)}`;
		}
	}
	return out;
}
const countedBadLines = new Set<string>();

function spoolRows(lines: readonly string[]): void {
	if (lines.length === 0) return;
	const rows = eventsOf(lines);
	try {
		stats.spoolBytes += spool.append(rows);
		stats.rowsSpooled += rows.length;
		stats.spoolPending += rows.length;
	} catch (err) {
		// Disk full or unwritable: the one case where rows are lost.
		stats.rowsDropped += rows.length;
		stats.lastError = `spool append failed: ${String(err)}`;
	}
}

/**
 * Keeps memory bounded: whatever exceeds the bound (newest rows) goes to disk. While
 * Postgres is down the bound shrinks to one batch, so a crash during an outage loses at
 * most one batch of rows, not a whole queue.
 */
function enforceBound(): void {
	const bound = down ? cfg.batchSize : cfg.maxQueue;
	if (queue.length > bound) spoolRows(queue.splice(bound));
}

function markUp(): void {
	down = false;
	insertOnly = false;
	backoffMs = 0;
}

function markDown(err: unknown): void {
	down = true;
	enforceBound();
	stats.lastError = String((err as Error)?.message ?? err);
	backoffMs = backoffMs ? Math.min(backoffMs * 2, BACKOFF_MAX_MS) : BACKOFF_MIN_MS;
	scheduleRetry();
}

function scheduleRetry(): void {
	if (retryTimer || stopping) return;
	// Jitter (50-100%) so writers of several instances do not reconnect in lockstep.
	const delay = backoffMs / 2 + Math.random() * (backoffMs / 2);
	retryTimer = setTimeout(() => {
		retryTimer = null;
		void drain();
	}, delay);
}

function scheduleFlush(): void {
	if (down || stopping) return; // the retry timer owns the next attempt
	if (queue.length >= cfg.batchSize) {
		void drain();
	} else if (queue.length > 0 && !flushTimer) {
		flushTimer = setTimeout(() => {
			flushTimer = null;
			void drain();
		}, cfg.flushIntervalMs);
	}
}

async function replaySpool(): Promise<boolean> {
	const files = spool.replayable();
	if (files.length === 0) return true;
	spool.seal(); // new overflow goes to a fresh file while these are replayed
	for (const path of files) {
		const file = spool.read(path);
		for (let i = 0; i < file.rows.length; i += REPLAY_CHUNK) {
			const chunk = file.rows.slice(i, i + REPLAY_CHUNK);
			await insertEvents(chunk);
			stats.batchesWritten++;
		}
		spool.remove(path);
		stats.rowsReplayed += file.rows.length;
		stats.rowsDropped += file.corrupt;
		stats.spoolPending = Math.max(0, stats.spoolPending - file.rows.length - file.corrupt);
	}
	const left = spool.measure();
	stats.spoolBytes = left.bytes;
	stats.spoolPending = left.rows;
	return true;
}

/** Writes the whole queue, then replays the spool. Single flight; false if Postgres failed. */
function drain(): Promise<boolean> {
	if (draining) return draining;
	if (flushTimer) {
		clearTimeout(flushTimer);
		flushTimer = null;
	}
	draining = (async () => {
		try {
			while (queue.length > 0) {
				const generation = queueGeneration;
				const batch = queue.slice(0, cfg.batchSize);
				const inserted = await insert(batch);
				// Only now leave memory: a failed batch stays at the head of the queue. If a
				// flush gave up on this insert meanwhile, the queue was spooled and replaced.
				if (generation === queueGeneration) queue.splice(0, batch.length);
				stats.batchesWritten++;
				stats.rowsWritten += inserted;
				markUp();
			}
			await replaySpool();
			markUp();
			return true;
		} catch (err) {
			markDown(err);
			enforceBound();
			return false;
		} finally {
			draining = null;
		}
	})();
	return draining.then((ok) => {
		scheduleFlush();
		return ok;
	});
}

const FLUSH_DEADLINE_MS = 5_000;
/** Bumped whenever the queue is spooled wholesale, so an old in-flight write leaves it alone. */
let queueGeneration = 0;

function withDeadline(p: Promise<boolean>, ms: number): Promise<boolean> {
	let timer: ReturnType<typeof setTimeout> | undefined;
	const late = new Promise<boolean>((resolve) => {
		timer = setTimeout(() => resolve(false), ms);
	});
	return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** Shutdown/explicit flush: everything reaches Postgres, or else the spool file. */
async function flush(): Promise<{ ok: boolean; pending: number }> {
	if (retryTimer) {
		clearTimeout(retryTimer);
		retryTimer = null;
	}
	// A write stuck on a half-open connection must not hold the shutdown: past the deadline
	// the queue goes to the spool (rows the stuck write still commits are skipped on replay).
	let ok = await withDeadline(drain(), FLUSH_DEADLINE_MS);
	// A drain already in flight may have started before the latest rows arrived.
	if (ok && queue.length > 0) ok = await withDeadline(drain(), FLUSH_DEADLINE_MS);
	if (!ok) {
		spoolRows(queue);
		queue = [];
		queueGeneration++;
		if (!stopping) scheduleRetry();
	}
	return { ok, pending: ok ? 0 : stats.spoolPending };
}

async function init(msg: AuditInit): Promise<void> {
	cfg = msg;
	if (cfg.maxQueue < cfg.batchSize) cfg.maxQueue = cfg.batchSize;
	spool = new AuditSpool(cfg.dataDir, `w${threadId}`);
	const left = spool.measure();
	stats.spoolBytes = left.bytes;
	stats.spoolPending = left.rows;
	db = openDb();
	copyAllowed = !isEmbeddedUrl(cfg.databaseUrl);
	statsTimer = setInterval(postStats, cfg.statsIntervalMs ?? 1_000);
	post({ type: "ready" });
	// Spool left by a previous run (or a crash): replay now, in the background.
	if (left.rows > 0) void drain();
}

// postgres.js can raise a connection error outside any query (a pool reconnecting while
// Postgres is away). In a worker an uncaught error ends the thread, and with it every row
// in memory: record it and keep going; the retry loop owns recovery.
process.on("uncaughtException", (err) => {
	stats.lastError = `uncaught: ${String((err as Error)?.message ?? err)}`;
});
process.on("unhandledRejection", (reason) => {
	stats.lastError = `unhandled rejection: ${String((reason as Error)?.message ?? reason)}`;
});

self.onmessage = async (ev: MessageEvent<ToAuditWriter>) => {
	const msg = ev.data;
	switch (msg.type) {
		case "init":
			await init(msg);
			return;
		case "events":
			for (const e of msg.events) queue.push(copyLine(e));
			enforceBound();
			scheduleFlush();
			return;
		case "lines":
			for (const line of splitCopyLines(msg.lines)) queue.push(line);
			enforceBound();
			scheduleFlush();
			return;
		case "flush": {
			const res = await flush();
			postStats();
			post({ type: "flushed", id: msg.id, ...res });
			return;
		}
		case "stop": {
			stopping = true;
			if (statsTimer) clearInterval(statsTimer);
			await flush();
			// Whatever could not be written waits for the next writer, in this process or the next.
			spool.release();
			postStats();
			await db.sql.end({ timeout: 2 }).catch(() => {});
			post({ type: "stopped" });
			return;
		}
	}
};
