import type { RequestBodyEvent } from "./request-body-event.ts";

/** Messages between BodyWriterClient (main thread) and workers/body-writer.ts. */

export interface BodyWriterInit {
	type: "init";
	databaseUrl: string;
	/** Longest body stored, in UTF-8 bytes. */
	maxBodyBytes: number;
	redactPatterns: string[];
	retentionDays: number;
	/** Bodies waiting for Postgres; past it new ones are dropped and counted. */
	maxQueue: number;
	batchSize: number;
	flushIntervalMs: number;
	statsIntervalMs?: number;
}

export type ToBodyWriter =
	| BodyWriterInit
	| { type: "bodies"; events: RequestBodyEvent[] }
	| { type: "flush"; id: number }
	| { type: "stop" };

export interface BodyWriterStats {
	rowsWritten: number;
	/** Bodies never stored: queue full, or Postgres refused them after retries. Usage rows are not affected. */
	rowsDropped: number;
	queueDepth: number;
	lastError: string | null;
}

export type FromBodyWriter =
	| ({ type: "stats" } & BodyWriterStats)
	| { type: "ready" }
	| { type: "flushed"; id: number }
	| { type: "stopped" };

export const emptyBodyStats = (): BodyWriterStats => ({
	rowsWritten: 0,
	rowsDropped: 0,
	queueDepth: 0,
	lastError: null,
});
