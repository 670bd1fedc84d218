import type { FromTraceExporter, ToTraceExporter, TraceExportInit } from "./trace-export-protocol.ts";
import type { TraceRecord } from "./trace-record.ts";
import type { TraceSink } from "./tracing.ts";

/** Batches posted and not yet taken by the exporter's thread; past it, batches are dropped. */
const MAX_IN_FLIGHT = 64;

/**
 * The request thread's end of workers/trace-exporter.ts. The exporter gets a thread of its
 * own so that its serialization and its HTTP client never run between a request's awaits.
 */
export class TraceExportThread implements TraceSink {
	private readonly worker: Worker;
	private inFlight = 0;
	private onClosed: (() => void) | null = null;

	constructor(init: TraceExportInit) {
		this.worker = new Worker(new URL("../../workers/trace-exporter.ts", import.meta.url));
		this.worker.addEventListener("message", (ev: MessageEvent<FromTraceExporter>) => {
			if (ev.data.type === "done") this.inFlight--;
			else this.onClosed?.();
		});
		// the HTTP worker's own lifetime decides; this thread never holds it open
		this.worker.unref();
		this.post({ type: "init", ...init });
	}

	send(traces: TraceRecord[]): void {
		// a stalled exporter loses traces; it never makes the request thread queue them without bound
		if (this.inFlight >= MAX_IN_FLIGHT) return;
		this.inFlight++;
		this.post({ type: "traces", json: JSON.stringify(traces) });
	}

	async close(timeoutMs: number): Promise<void> {
		await new Promise<void>((resolve) => {
			const timer = setTimeout(resolve, timeoutMs);
			this.onClosed = () => {
				clearTimeout(timer);
				resolve();
			};
			this.post({ type: "close" });
		});
		this.worker.terminate();
	}

	private post(msg: ToTraceExporter): void {
		this.worker.postMessage(msg);
	}
}
