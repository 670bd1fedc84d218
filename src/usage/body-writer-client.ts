import { type BodyWriterStats, emptyBodyStats, type FromBodyWriter, type ToBodyWriter } from "./body-protocol.ts";
import type { RequestBodyEvent } from "./request-body-event.ts";

export interface BodyWriterOptions {
	databaseUrl: string;
	maxBodyBytes: number;
	redactPatterns: string[];
	retentionDays: number;
	maxQueue?: number;
	batchSize?: number;
	flushIntervalMs?: number;
	onError?: (err: Error) => void;
}

/** Every ArrayBuffer under the events' bytes, to move them to the writer instead of copying. */
function buffersOf(events: readonly RequestBodyEvent[]): ArrayBuffer[] {
	const out = new Set<ArrayBuffer>();
	for (const ev of events) {
		const r = ev.response;
		if (r?.kind === "bytes" && r.bytes.buffer instanceof ArrayBuffer) out.add(r.bytes.buffer);
		if (r?.kind === "sse") for (const c of r.chunks) if (c.buffer instanceof ArrayBuffer) out.add(c.buffer);
	}
	return [...out];
}

/** Main-thread side of workers/body-writer.ts: forwards what the HTTP workers captured. */
export class BodyWriterClient {
	private worker: Worker | null = null;
	private latest: BodyWriterStats = emptyBodyStats();
	private nextFlush = 1;
	private readonly waiters = new Map<number, () => void>();
	private stopWaiter: (() => void) | null = null;

	constructor(private readonly opts: BodyWriterOptions) {}

	async start(): Promise<void> {
		const worker = new Worker(new URL("../../workers/body-writer.ts", import.meta.url));
		this.worker = worker;
		const ready = new Promise<void>((resolve, reject) => {
			const timer = setTimeout(() => reject(new Error("body writer did not start within 10 s")), 10_000);
			worker.addEventListener("message", (ev: MessageEvent<FromBodyWriter>) => {
				const msg = ev.data;
				if (msg.type === "ready") {
					clearTimeout(timer);
					resolve();
				} else if (msg.type === "stats") {
					const { type: _, ...s } = msg;
					this.latest = s;
				} else if (msg.type === "flushed") {
					this.waiters.get(msg.id)?.();
					this.waiters.delete(msg.id);
				} else this.stopWaiter?.();
			});
			worker.addEventListener("error", (ev) => {
				clearTimeout(timer);
				const err = new Error(`body writer failed: ${(ev as ErrorEvent).message}`);
				reject(err);
				this.opts.onError?.(err);
			});
		});
		this.send({
			type: "init",
			databaseUrl: this.opts.databaseUrl,
			maxBodyBytes: this.opts.maxBodyBytes,
			redactPatterns: this.opts.redactPatterns,
			retentionDays: this.opts.retentionDays,
			maxQueue: this.opts.maxQueue ?? 2_000,
			batchSize: this.opts.batchSize ?? 50,
			flushIntervalMs: this.opts.flushIntervalMs ?? 200,
		});
		await ready;
	}

	/** Events as an HTTP worker posted them: this thread owns their buffers now, so they move on uncopied. */
	write(events: RequestBodyEvent[]): void {
		this.worker?.postMessage({ type: "bodies", events } satisfies ToBodyWriter, buffersOf(events));
	}

	stats(): BodyWriterStats {
		return this.latest;
	}

	/** Writes what is queued; gives up after `timeoutMs` (bodies are best-effort). */
	flush(timeoutMs = 5_000): Promise<void> {
		if (!this.worker) return Promise.resolve();
		const id = this.nextFlush++;
		return new Promise((resolve) => {
			const timer = setTimeout(resolve, timeoutMs);
			this.waiters.set(id, () => {
				clearTimeout(timer);
				resolve();
			});
			this.send({ type: "flush", id });
		});
	}

	async stop(timeoutMs = 5_000): Promise<void> {
		const worker = this.worker;
		if (!worker) return;
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

	private send(msg: ToBodyWriter): void {
		this.worker?.postMessage(msg);
	}
}
