import { ROOT_CONTEXT, type SpanContext, SpanKind, trace } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import {
	AlwaysOnSampler,
	type IdGenerator,
	ParentBasedSampler,
	RandomIdGenerator,
	type Sampler,
	SamplingDecision,
	TraceIdRatioBasedSampler,
} from "@opentelemetry/sdk-trace";
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from "@opentelemetry/semantic-conventions";
import type { TelemetryConfig } from "../config/telemetry-config.ts";
import { RequestTrace, type RequestTraceInit } from "./request-trace.ts";
import { TraceExportThread } from "./trace-export-thread.ts";
import type { TraceRecord } from "./trace-record.ts";

/** How long a stopping worker waits for its last spans to be exported. */
const SHUTDOWN_MS = 3_000;
/** Finished traces posted to the exporter together: one message per batch, not per request. */
const BATCH_TRACES = 64;
/** A batch that does not fill goes after this long. */
const BATCH_MS = 200;

/** Where finished traces go, a batch at a time: the exporter's thread, or a benchmark's stand-in. */
export interface TraceSink {
	send(traces: TraceRecord[]): void;
	/** Exports what was sent and stops, within `timeoutMs`. */
	close(timeoutMs: number): Promise<void>;
}

const HEADER_GETTER = {
	get: (c: Record<string, string | undefined>, k: string) => c[k],
	keys: (c: Record<string, string | undefined>) => Object.keys(c),
};

/**
 * One HTTP worker's tracer. The request path records each request's spans into one flat
 * record (request-trace.ts); finished records are posted in batches to a thread of their own,
 * which turns them into the SDK's spans for its batch processor and the OTLP/HTTP exporter.
 * The global OpenTelemetry API is left alone: parents are explicit, so no context manager
 * runs on every await.
 */
export class Tracing {
	readonly propagator = new W3CTraceContextPropagator();
	private readonly ids: IdGenerator = new RandomIdGenerator();
	private pending: TraceRecord[] = [];
	private timer: ReturnType<typeof setTimeout> | null = null;

	constructor(
		/** Null: every trace that has no parent is recorded (no sampler call). */
		private readonly sampler: Sampler | null,
		/** Asked for a trace with a parent even when `sampler` is null. */
		private readonly parentSampler: Sampler,
		/** Send the attempt span's `traceparent` upstream. */
		readonly propagate: boolean,
		/** Trace ids are drawn on the request thread (the sampler or propagation need them). */
		private readonly drawTraceIds: boolean,
		private readonly sink: TraceSink,
	) {}

	/**
	 * Starts the trace of one data-plane request, child of the caller's `traceparent` if any;
	 * null when it is neither recorded nor propagated.
	 */
	begin(request: Request, init: RequestTraceInit): RequestTrace | null {
		const traceparent = request.headers.get("traceparent");
		let context = ROOT_CONTEXT;
		let parent: SpanContext | undefined;
		if (traceparent !== null) {
			const carrier = { traceparent, tracestate: request.headers.get("tracestate") ?? undefined };
			context = this.propagator.extract(ROOT_CONTEXT, carrier, HEADER_GETTER);
			parent = trace.getSpanContext(context);
		}
		const traceId = parent?.traceId ?? (this.drawTraceIds ? this.ids.generateTraceId() : "");
		const sampler = parent ? this.parentSampler : this.sampler;
		const sampled =
			sampler === null ||
			sampler.shouldSample(context, traceId, `POST ${init.endpoint}`, SpanKind.SERVER, {}, []).decision ===
				SamplingDecision.RECORD_AND_SAMPLED;
		if (!sampled && !this.propagate) return null;
		const ids = { traceId, parentSpanId: parent?.spanId ?? "", traceState: parent?.traceState };
		return new RequestTrace(this, ids, sampled, request.url, init);
	}

	/** A span id drawn now (one that is sent upstream before its span ends). */
	spanId(): string {
		return this.ids.generateSpanId();
	}

	/** A sampled request's trace is complete. */
	finished(record: TraceRecord): void {
		this.pending.push(record);
		if (this.pending.length >= BATCH_TRACES) this.flush();
		else this.timer ??= setTimeout(this.flush, BATCH_MS);
	}

	private readonly flush = (): void => {
		if (this.timer !== null) clearTimeout(this.timer);
		this.timer = null;
		if (this.pending.length === 0) return;
		this.sink.send(this.pending);
		this.pending = [];
	};

	/** Exports what is queued and stops (a draining worker). */
	async shutdown(): Promise<void> {
		this.flush();
		await this.sink.close(SHUTDOWN_MS).catch(() => {});
	}
}

function samplerFor(cfg: TelemetryConfig): Sampler {
	const root = cfg.sample_ratio >= 1 ? new AlwaysOnSampler() : new TraceIdRatioBasedSampler(cfg.sample_ratio);
	return cfg.parent_based ? new ParentBasedSampler({ root }) : root;
}

/** Null when tracing is off: the request path then makes no trace objects at all. */
export function createTracing(cfg: TelemetryConfig, service: { version: string; worker: number }): Tracing | null {
	if (!cfg.enabled) return null;
	const sampler = samplerFor(cfg);
	const sink = new TraceExportThread({
		url: cfg.traces_url,
		headers: cfg.headers,
		resource: {
			[ATTR_SERVICE_NAME]: cfg.service_name,
			[ATTR_SERVICE_VERSION]: service.version,
			"interchange.worker": service.worker,
		},
		scope: { name: "interchange", version: service.version },
		timeOrigin: performance.timeOrigin,
	});
	const everyRoot = cfg.sample_ratio >= 1;
	return new Tracing(
		everyRoot ? null : sampler,
		sampler,
		cfg.propagate_to_upstream,
		!everyRoot || cfg.propagate_to_upstream,
		sink,
	);
}
