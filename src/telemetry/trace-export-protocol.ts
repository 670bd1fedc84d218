/** What the trace exporter's thread needs to know: where to send, and who is sending. */
export interface TraceExportInit {
	/** OTLP/HTTP traces URL. */
	url: string;
	headers: Record<string, string>;
	resource: Record<string, string | number>;
	scope: { name: string; version: string };
	/** performance.timeOrigin of the recording thread: its span times are relative to it. */
	timeOrigin: number;
}

/** Messages to workers/trace-exporter.ts. */
export type ToTraceExporter =
	| ({ type: "init" } & TraceExportInit)
	/** TraceRecord[] as JSON: a string crosses threads for less than a structured clone of arrays. */
	| { type: "traces"; json: string }
	/** Export what is queued, then answer `closed`. */
	| { type: "close" };

/** Messages from it: `done` once per `traces` batch taken. */
export type FromTraceExporter = { type: "done" } | { type: "closed" };
