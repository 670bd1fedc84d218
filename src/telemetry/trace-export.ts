import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, type SpanProcessor } from "@opentelemetry/sdk-trace";
import type { TraceExportInit } from "./trace-export-protocol.ts";
import { TraceReader, type TraceRecord } from "./trace-record.ts";

/**
 * The exporter's side of tracing, on its own thread: trace records become the SDK's
 * ReadableSpans and go through the SDK's batch processor to the official OTLP/HTTP exporter.
 * Its JSON serialization and HTTP client work stay off the request threads.
 */
export class TraceExport {
	constructor(
		private readonly reader: TraceReader,
		private readonly processor: SpanProcessor,
	) {}

	add(traces: readonly TraceRecord[]): void {
		for (const r of traces) for (const span of this.reader.read(r)) this.processor.onEnd(span);
	}

	/** Exports what is queued and stops. */
	shutdown(): Promise<void> {
		return this.processor.shutdown();
	}
}

export function otlpTraceExport(init: TraceExportInit): TraceExport {
	const reader = new TraceReader({
		resource: resourceFromAttributes(init.resource),
		scope: init.scope,
		timeOrigin: init.timeOrigin,
	});
	const processor = new BatchSpanProcessor({
		exporter: new OTLPTraceExporter({ url: init.url, headers: init.headers }),
		// a full queue drops spans rather than hold memory; one export of up to 2048 spans at a
		// time, or every second when fewer come
		maxQueueSize: 16_384,
		maxExportBatchSize: 2_048,
		scheduledDelayMillis: 1_000,
	});
	return new TraceExport(reader, processor);
}
