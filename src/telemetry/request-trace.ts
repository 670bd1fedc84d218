import {
	defaultTextMapSetter,
	ROOT_CONTEXT,
	SpanKind,
	type SpanStatus,
	SpanStatusCode,
	TraceFlags,
	type TraceState,
	trace,
} from "@opentelemetry/api";
import type { UsageEvent } from "../usage/usage-event.ts";
import { GEN_AI, genAiOperationName, genAiProviderName } from "./gen-ai-attributes.ts";
import { SpanRecorder } from "./trace-record.ts";
import type { Tracing } from "./tracing.ts";

export interface RequestTraceInit {
	/** Canonical endpoint (the route). */
	endpoint: string;
	/** Gateway operation (src/protocols/operations.ts). */
	operation: string;
	requestId: string;
	/** performance.now() at arrival. */
	startedAt: number;
}

/** The provider an attempt goes to, as the failover loop knows it. */
export interface TracedProvider {
	name: string;
	type: string;
}

/** One upstream attempt's client span, told what happened by the failover loop. */
export interface AttemptSpan {
	/** Adds `traceparent` naming this attempt to the upstream headers (when propagation is on). */
	inject(headers: Record<string, string>): void;
	/** The upstream answered with this status. */
	answered(status: number): void;
	/** Ends the attempt: `failure` null when its response was taken. */
	end(failure: { code: string; message: string } | null): void;
}

/** What the failover loop sees of a request's trace: one client span per attempt. */
export interface AttemptTracer {
	attempt(provider: TracedProvider, account: string, model: string): AttemptSpan;
}

/** How a relayed stream ended (the relay's own result, as far as the trace needs it). */
export interface StreamOutcome {
	/** Milliseconds from the request's arrival to the first byte sent. */
	ttftMs: number | null;
	completed: boolean;
	cancelled: boolean;
	errorCode: string | null;
}

/** Numeric request parameters recorded as GenAI attributes, when the body has them. */
const REQUEST_NUMBERS: [string, string][] = [
	["max_tokens", GEN_AI.maxTokens],
	["max_completion_tokens", GEN_AI.maxTokens],
	["max_output_tokens", GEN_AI.maxTokens],
	["temperature", GEN_AI.temperature],
	["top_p", GEN_AI.topP],
];

type Attr = string | number | boolean;
const NONE: readonly Attr[] = [];

/** The path of a request URL (Bun's request.url is absolute: scheme://host/path?query). */
function pathOf(url: string): string {
	const start = url.indexOf("/", url.indexOf("//") + 2);
	if (start < 0) return "/";
	const query = url.indexOf("?", start);
	return query < 0 ? url.slice(start) : url.slice(start, query);
}

/** The trace a request continues (its caller's) or starts; ids left "" are drawn by the exporter. */
export interface TraceIds {
	traceId: string;
	parentSpanId: string;
	traceState: TraceState | undefined;
}

/**
 * The spans of one data-plane request: a server span (child of the caller's `traceparent`)
 * with children for authentication, admission, each upstream attempt, the relayed stream and
 * the usage handoff. Made only when tracing is on; the request path holds it as `trace | null`.
 *
 * Spans are written as flat records (trace-record.ts), not as the SDK's Span objects: those
 * cost more than the rest of a proxied request's tracing together (attribute checks, hrtime
 * conversions, one object per span, its processor's work on the request thread). The
 * exporter's thread turns the records into the SDK's ReadableSpans for the official exporter,
 * so what a collector receives is the same.
 */
export class RequestTrace implements AttemptTracer {
	private readonly spans: SpanRecorder;
	/** The server span's attributes as key/value pairs; a later pair wins, as with setAttribute. */
	private readonly attrs: Attr[];
	/** GenAI attributes shared by the server and stream spans, once the model is resolved. */
	private common: readonly Attr[] = NONE;

	constructor(
		private readonly tracing: Tracing,
		readonly ids: TraceIds,
		/** False: recorded for propagation only, never exported (the sampler said no). */
		private readonly sampled: boolean,
		url: string,
		private readonly init: RequestTraceInit,
	) {
		this.spans = new SpanRecorder(ids.traceId, ids.parentSpanId, ids.traceState?.serialize() ?? "");
		this.attrs = [
			"http.request.method",
			"POST",
			"http.route",
			init.endpoint,
			"url.path",
			pathOf(url),
			"interchange.request_id",
			init.requestId,
			GEN_AI.operation,
			genAiOperationName(init.operation),
		];
	}

	/** A finished step of the request, from `startedAt` (performance.now()) to now. */
	phase(name: string, startedAt: number): void {
		this.spans.span(name, SpanKind.INTERNAL, startedAt, performance.now(), "", null, NONE);
	}

	/** The model was resolved to a provider: the GenAI request attributes. */
	routed(provider: TracedProvider, model: string, body: Record<string, unknown>): void {
		const system = genAiProviderName(provider.type);
		this.common = [
			GEN_AI.providerName,
			system,
			GEN_AI.system,
			system,
			GEN_AI.requestModel,
			model,
			"interchange.provider",
			provider.name,
		];
		const a = this.attrs;
		for (const x of this.common) a.push(x);
		for (const [field, attr] of REQUEST_NUMBERS) {
			const v = body[field];
			if (typeof v === "number") a.push(attr, v);
		}
		if (typeof body.model === "string" && body.model !== model) a.push("interchange.requested_model", body.model);
	}

	attempt(provider: TracedProvider, account: string, model: string): AttemptSpan {
		return new Attempt(this, this.spans, provider, account, model, genAiOperationName(this.init.operation));
	}

	/** Adds `traceparent` naming the span `spanId` to upstream headers. */
	inject(spanId: string, headers: Record<string, string>): void {
		const { traceId, traceState } = this.ids;
		const context = { traceId, spanId, traceFlags: this.sampled ? TraceFlags.SAMPLED : TraceFlags.NONE, traceState };
		this.tracing.propagator.inject(trace.setSpanContext(ROOT_CONTEXT, context), headers, defaultTextMapSetter);
	}

	/** The span id an attempt names upstream; "" (drawn by the exporter) when nothing is propagated. */
	attemptSpanId(): string {
		return this.tracing.propagate ? this.tracing.spanId() : "";
	}

	/** Opens the span of the relayed stream (now); the returned function ends it. */
	stream(): (outcome: StreamOutcome) => void {
		const startedAt = performance.now();
		return (o) => {
			const now = performance.now();
			const attrs: Attr[] = [...this.common, "interchange.stream.completed", o.completed];
			const events: (string | number)[] = [];
			let status: SpanStatus | null = null;
			if (o.ttftMs !== null) {
				events.push("first token", this.init.startedAt + o.ttftMs);
				attrs.push("interchange.time_to_first_token_ms", Math.round(o.ttftMs));
			}
			if (o.cancelled) events.push("client left", now);
			else if (o.errorCode !== null) {
				attrs.push("error.type", o.errorCode);
				status = { code: SpanStatusCode.ERROR, message: o.errorCode };
			}
			this.spans.span("stream", SpanKind.INTERNAL, startedAt, now, "", status, attrs, events);
		};
	}

	/**
	 * The usage event was handed to the usage pipeline (RequestRecord.onWrite): the handoff's
	 * span, the request's outcome and token counts (the row's own), and the end of the trace.
	 */
	readonly written = (ev: UsageEvent, handoffStartedAt: number): void => {
		const now = performance.now();
		this.spans.span("usage write", SpanKind.INTERNAL, handoffStartedAt, now, "", null, NONE);
		const a = this.attrs;
		a.push(
			"http.response.status_code",
			ev.status,
			"interchange.attempts",
			ev.attempts,
			GEN_AI.inputTokens,
			ev.prompt_tokens,
			GEN_AI.outputTokens,
			ev.completion_tokens,
			"interchange.usage_source",
			ev.usage_source,
		);
		if (ev.user_agent !== null) a.push("user_agent.original", ev.user_agent);
		if (ev.key_id !== null) a.push("interchange.key_id", ev.key_id);
		if (ev.account !== null) a.push("interchange.account", ev.account);
		if (ev.cost_usd !== null) a.push("interchange.cost_usd", ev.cost_usd);
		let status: SpanStatus | null = null;
		if (ev.error_code !== null) {
			a.push("error.type", ev.error_code);
			// a client's own mistake (4xx) or departure is not the gateway's error (HTTP conventions)
			if (ev.status >= 500 || ev.status === 200) status = { code: SpanStatusCode.ERROR, message: ev.error_code };
		}
		this.spans.span(`POST ${this.init.endpoint}`, SpanKind.SERVER, this.init.startedAt, now, "", status, a);
		if (this.sampled) this.tracing.finished(this.spans.record);
	};
}

/** One upstream attempt's client span, recorded when the failover loop ends it. */
class Attempt implements AttemptSpan {
	private readonly startedAt = performance.now();
	private readonly spanId: string;
	private readonly attrs: Attr[];

	constructor(
		private readonly trace: RequestTrace,
		private readonly spans: SpanRecorder,
		provider: TracedProvider,
		account: string,
		private readonly model: string,
		private readonly operation: string,
	) {
		const system = genAiProviderName(provider.type);
		this.spanId = trace.attemptSpanId();
		this.attrs = [
			GEN_AI.operation,
			operation,
			GEN_AI.providerName,
			system,
			GEN_AI.system,
			system,
			GEN_AI.requestModel,
			model,
			"interchange.provider",
			provider.name,
			"interchange.account",
			account,
		];
	}

	inject(headers: Record<string, string>): void {
		if (this.spanId) this.trace.inject(this.spanId, headers);
	}

	answered(status: number): void {
		this.attrs.push("http.response.status_code", status);
	}

	end(failure: { code: string; message: string } | null): void {
		let status: SpanStatus | null = null;
		if (failure) {
			this.attrs.push("error.type", failure.code);
			status = { code: SpanStatusCode.ERROR, message: failure.message };
		}
		const name = `${this.operation} ${this.model}`;
		this.spans.span(name, SpanKind.CLIENT, this.startedAt, performance.now(), this.spanId, status, this.attrs);
	}
}
