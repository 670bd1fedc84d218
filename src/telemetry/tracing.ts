import { ROOT_CONTEXT, type Tracer } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
	AlwaysOnSampler,
	BatchSpanProcessor,
	ParentBasedSampler,
	type Sampler,
	TraceIdRatioBasedSampler,
	TracerProvider,
} from "@opentelemetry/sdk-trace";
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from "@opentelemetry/semantic-conventions";
import type { TelemetryConfig } from "../config/telemetry-config.ts";
import { RequestTrace, type RequestTraceInit } from "./request-trace.ts";

/** How long a stopping worker waits for its last spans to be exported. */
const SHUTDOWN_MS = 3_000;

function samplerFor(cfg: TelemetryConfig): Sampler {
	const root = cfg.sample_ratio >= 1 ? new AlwaysOnSampler() : new TraceIdRatioBasedSampler(cfg.sample_ratio);
	return cfg.parent_based ? new ParentBasedSampler({ root }) : root;
}

/**
 * One HTTP worker's tracer: its own provider, exporter and batch processor (spans never cross
 * threads). Spans are queued in memory and posted in batches by a timer, off the request path.
 * The global OpenTelemetry API is left alone: parents are passed explicitly, so no context
 * manager runs on every await.
 */
export class Tracing {
	readonly propagator = new W3CTraceContextPropagator();

	constructor(
		readonly tracer: Tracer,
		private readonly provider: TracerProvider,
		/** Send the attempt span's `traceparent` upstream. */
		readonly propagate: boolean,
	) {}

	/** Opens the server span of one data-plane request, child of the caller's `traceparent` if any. */
	begin(request: Request, init: RequestTraceInit): RequestTrace {
		const traceparent = request.headers.get("traceparent");
		const parent =
			traceparent === null
				? ROOT_CONTEXT
				: this.propagator.extract(
						ROOT_CONTEXT,
						{ traceparent, tracestate: request.headers.get("tracestate") ?? undefined },
						{ get: (c, k) => c[k as keyof typeof c], keys: (c) => Object.keys(c) },
					);
		return new RequestTrace(this, parent, request, init);
	}

	/** Exports what is queued and stops (a draining worker). */
	async shutdown(): Promise<void> {
		await Promise.race([this.provider.shutdown().catch(() => {}), Bun.sleep(SHUTDOWN_MS)]);
	}
}

/** Null when tracing is off: the request path then makes no span objects at all. */
export function createTracing(cfg: TelemetryConfig, service: { version: string; worker: number }): Tracing | null {
	if (!cfg.enabled) return null;
	const provider = new TracerProvider({
		resource: resourceFromAttributes({
			[ATTR_SERVICE_NAME]: cfg.service_name,
			[ATTR_SERVICE_VERSION]: service.version,
			"interchange.worker": service.worker,
		}),
		sampler: samplerFor(cfg),
		spanProcessors: [
			new BatchSpanProcessor({
				exporter: new OTLPTraceExporter({ url: cfg.traces_url, headers: cfg.headers }),
				// a full queue drops spans rather than hold memory or slow requests down
				maxQueueSize: 8_192,
				maxExportBatchSize: 512,
				scheduledDelayMillis: 1_000,
			}),
		],
	});
	return new Tracing(provider.getTracer("interchange", service.version), provider, cfg.propagate_to_upstream);
}
