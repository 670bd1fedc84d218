import { threadId } from "node:worker_threads";
import { type AuditWriterStats, emptyAuditStats, type FromAuditWriter, type ToAuditWriter } from "./audit-protocol.ts";
import { AuditSpool } from "./audit-spool.ts";
import { parseCopyLine, splitCopyLines } from "./copy-line.ts";
import type { UsageEvent } from "./usage-event.ts";

export interface AuditWriterOptions {
	databaseUrl: string;
	/** GATEWAY_DATA_DIR; the spool lives in `<dataDir>/spool`. */
	dataDir: string;
	/** Rows per INSERT. Default 500 (see the report: throughput flattens past it). */
	batchSize?: number;
	/** Longest a row waits for its batch to fill. Default 50 ms. */
	flushIntervalMs?: number;
	/** Rows kept in memory while Postgres is down before spilling to disk. Default 50,000. */
	maxQueue?: number;
	insertTimeoutMs?: number;
	statsIntervalMs?: number;
	onStats?: (stats: AuditWriterStats) => void;
	/** The writer thread reported an uncaught error. */
	onError?: (err: Error) => void;
}

/**
 * Main-thread side of workers/audit-writer.ts. `write` is synchronous and cheap: events
 * collect in an array and go to the worker as one postMessage per microtask, so a burst
 * of requests finishing together costs one structured clone, not one each.
 */
export class AuditWriterClient {
	private readonly opts: AuditWriterOptions;
	private worker: Worker | null = null;
	private pending: UsageEvent[] = [];
	private postScheduled = false;
	private stopped = false;
	private nextFlushId = 1;
	private readonly flushWaiters = new Map<number, (r: { ok: boolean; pending: number }) => void>();
	private stopWaiter: (() => void) | null = null;
	private latest: AuditWriterStats = emptyAuditStats();
	/** Only for rows written after stop(): they go straight to the spool file. */
	private lateSpool: AuditSpool | null = null;

	constructor(opts: AuditWriterOptions) {
		this.opts = opts;
	}

	async start(): Promise<void> {
		if (this.worker) return;
		const worker = new Worker(new URL("../../workers/audit-writer.ts", import.meta.url));
		this.worker = worker;
		const ready = new Promise<void>((resolve, reject) => {
			const timer = setTimeout(() => reject(new Error("audit writer did not start within 10 s")), 10_000);
			worker.addEventListener("message", (ev: MessageEvent<FromAuditWriter>) => {
				if (ev.data.type === "ready") {
					clearTimeout(timer);
					resolve();
				}
				this.onMessage(ev.data);
			});
			worker.addEventListener("error", (ev) => {
				clearTimeout(timer);
				const message = (ev as ErrorEvent).message;
				reject(new Error(`audit writer failed: ${message}`));
				this.opts.onError?.(new Error(`audit writer error: ${message}`));
			});
		});
		this.send({
			type: "init",
			databaseUrl: this.opts.databaseUrl,
			dataDir: this.opts.dataDir,
			batchSize: this.opts.batchSize ?? 500,
			flushIntervalMs: this.opts.flushIntervalMs ?? 50,
			maxQueue: this.opts.maxQueue ?? 50_000,
			insertTimeoutMs: this.opts.insertTimeoutMs,
			statsIntervalMs: this.opts.statsIntervalMs,
		});
		await ready;
		this.postPending();
	}

	write(ev: UsageEvent): void {
		if (this.stopped) {
			this.spoolLate(ev);
			return;
		}
		this.pending.push(ev);
		if (!this.postScheduled) {
			this.postScheduled = true;
			queueMicrotask(() => this.postPending());
		}
	}

	/**
	 * Rows already written as COPY lines (what HTTP workers send): forwarded as one string,
	 * never parsed on this thread. Order with `write` is kept.
	 */
	writeLines(lines: string, count: number): void {
		if (count === 0) return;
		if (this.stopped) {
			this.spoolLate(...splitCopyLines(lines).map(parseCopyLine));
			return;
		}
		this.postPending();
		this.send({ type: "lines", lines });
	}

	/** Everything written so far reaches Postgres (ok) or the spool file (ok=false, pending rows). */
	flush(timeoutMs = 10_000): Promise<{ ok: boolean; pending: number }> {
		if (!this.worker)
			return Promise.resolve({
				ok: this.pending.length === 0,
				pending: this.pending.length,
			});
		this.postPending();
		const id = this.nextFlushId++;
		return new Promise((resolve) => {
			const timer = setTimeout(() => {
				this.flushWaiters.delete(id);
				resolve({
					ok: false,
					pending: this.latest.queueDepth + this.latest.spoolPending,
				});
			}, timeoutMs);
			this.flushWaiters.set(id, (r) => {
				clearTimeout(timer);
				resolve(r);
			});
			this.send({ type: "flush", id });
		});
	}

	/** Flushes (spooling what Postgres will not take) and ends the worker. */
	async stop(timeoutMs = 15_000): Promise<void> {
		if (this.stopped) return;
		const worker = this.worker;
		this.postPending();
		this.stopped = true;
		if (!worker) {
			this.spoolLate(...this.pending.splice(0));
			return;
		}
		await new Promise<void>((resolve) => {
			const timer = setTimeout(resolve, timeoutMs);
			this.stopWaiter = () => {
				clearTimeout(timer);
				resolve();
			};
			this.send({ type: "stop" });
		});
		worker.terminate();
		this.worker = null;
	}

	stats(): AuditWriterStats {
		return {
			...this.latest,
			queueDepth: this.latest.queueDepth + this.pending.length,
		};
	}

	private postPending(): void {
		this.postScheduled = false;
		if (!this.worker || this.pending.length === 0) return;
		const events = this.pending;
		this.pending = [];
		this.send({ type: "events", events });
	}

	private send(msg: ToAuditWriter): void {
		this.worker?.postMessage(msg);
	}

	private spoolLate(...events: UsageEvent[]): void {
		this.lateSpool ??= new AuditSpool(this.opts.dataDir, `main${threadId}`);
		this.lateSpool.writeReleased(events);
	}

	private onMessage(msg: FromAuditWriter): void {
		switch (msg.type) {
			case "stats": {
				const { type: _type, ...s } = msg;
				this.latest = s;
				this.opts.onStats?.(s);
				return;
			}
			case "flushed":
				this.flushWaiters.get(msg.id)?.({ ok: msg.ok, pending: msg.pending });
				this.flushWaiters.delete(msg.id);
				return;
			case "stopped":
				this.stopWaiter?.();
				return;
		}
	}
}
