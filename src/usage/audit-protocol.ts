import type { UsageEvent } from "./usage-event.ts";

/** Messages between AuditWriterClient (main thread) and workers/audit-writer.ts. */

export interface AuditInit {
	type: "init";
	databaseUrl: string;
	dataDir: string;
	batchSize: number;
	flushIntervalMs: number;
	maxQueue: number;
	/** A write slower than this counts as failed (the pool is replaced); replays are idempotent. */
	insertTimeoutMs?: number;
	statsIntervalMs?: number;
}

export type ToAuditWriter =
	| AuditInit
	| { type: "events"; events: UsageEvent[] }
	/** Rows as COPY lines, as HTTP workers send them (streamed to Postgres unparsed). */
	| { type: "lines"; lines: string }
	| { type: "flush"; id: number }
	| { type: "stop" };

export interface AuditWriterStats {
	/** Rows in memory, not yet in Postgres nor in the spool. */
	queueDepth: number;
	batchesWritten: number;
	rowsWritten: number;
	/** Rows ever appended to the spool file. */
	rowsSpooled: number;
	/** Rows read back from the spool into Postgres. */
	rowsReplayed: number;
	/** Rows in spool files not replayed yet. */
	spoolPending: number;
	/** Rows lost (only a failing disk can cause it). */
	rowsDropped: number;
	/** Rows Postgres refused for their data, set aside in the dead letter (table, else file). */
	rowsDeadLettered: number;
	spoolBytes: number;
	/** True while Postgres is considered unreachable. */
	down: boolean;
	lastError: string | null;
}

export type FromAuditWriter =
	| ({ type: "stats" } & AuditWriterStats)
	| { type: "ready" }
	| { type: "flushed"; id: number; ok: boolean; pending: number }
	| { type: "stopped" };

/** Counters as a new writer starts them. */
export function emptyAuditStats(): AuditWriterStats {
	return {
		queueDepth: 0,
		batchesWritten: 0,
		rowsWritten: 0,
		rowsSpooled: 0,
		rowsReplayed: 0,
		spoolPending: 0,
		rowsDropped: 0,
		rowsDeadLettered: 0,
		spoolBytes: 0,
		down: false,
		lastError: null,
	};
}
