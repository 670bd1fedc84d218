/**
 * The trace exporter's thread, one per HTTP worker: trace records in, OTLP/HTTP exports out
 * (src/telemetry/trace-export.ts). Protocol: src/telemetry/trace-export-protocol.ts.
 */
import { otlpTraceExport, type TraceExport } from "../src/telemetry/trace-export.ts";
import type { FromTraceExporter, ToTraceExporter } from "../src/telemetry/trace-export-protocol.ts";

declare const self: Worker;

let exporter: TraceExport | null = null;
const post = (msg: FromTraceExporter) => self.postMessage(msg);

// a collector that is down fails its exports, never this thread
process.on("uncaughtException", () => {});
process.on("unhandledRejection", () => {});

self.onmessage = async (ev: MessageEvent<ToTraceExporter>) => {
	const msg = ev.data;
	switch (msg.type) {
		case "init": {
			const { type: _, ...init } = msg;
			exporter = otlpTraceExport(init);
			return;
		}
		case "traces":
			exporter?.add(JSON.parse(msg.json));
			post({ type: "done" });
			return;
		case "close":
			await exporter?.shutdown().catch(() => {});
			post({ type: "closed" });
			return;
	}
};
