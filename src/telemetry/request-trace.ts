import {
	type Attributes,
	type Context,
	defaultTextMapSetter,
	ROOT_CONTEXT,
	type Span,
	SpanKind,
	SpanStatusCode,
	trace,
} from "@opentelemetry/api";
import type { UsageEvent } from "../usage/usage-event.ts";
import { GEN_AI, genAiOperationName, genAiProviderName } from "./gen-ai-attributes.ts";
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

/**
 * The spans of one data-plane request: a server span (child of the caller's `traceparent`)
 * with children for authentication, admission, each upstream attempt, the relayed stream and
 * the usage handoff. Made only when tracing is on; the request path holds it as `trace | null`.
 */
export class RequestTrace implements AttemptTracer {
	private readonly server: Span;
	/** The server span as parent of the children. */
	private readonly context: Context;
	private readonly common: Attributes = {};

	constructor(
		private readonly tracing: Tracing,
		parent: Context,
		request: Request,
		private readonly init: RequestTraceInit,
	) {
		this.server = tracing.tracer.startSpan(
			`POST ${init.endpoint}`,
			{
				kind: SpanKind.SERVER,
				startTime: init.startedAt,
				attributes: {
					"http.request.method": "POST",
					"http.route": init.endpoint,
					"url.path": new URL(request.url).pathname,
					"user_agent.original": request.headers.get("user-agent") ?? undefined,
					"interchange.request_id": init.requestId,
					[GEN_AI.operation]: genAiOperationName(init.operation),
				},
			},
			parent,
		);
		this.context = trace.setSpan(parent, this.server);
	}

	/** A finished step of the request, from `startedAt` (performance.now()) to now. */
	phase(name: string, startedAt: number): void {
		this.tracing.tracer.startSpan(name, { startTime: startedAt }, this.context).end();
	}

	/** The model was resolved to a provider: the GenAI request attributes. */
	routed(provider: TracedProvider, model: string, body: Record<string, unknown>): void {
		const system = genAiProviderName(provider.type);
		Object.assign(this.common, {
			[GEN_AI.providerName]: system,
			[GEN_AI.system]: system,
			[GEN_AI.requestModel]: model,
			"interchange.provider": provider.name,
		});
		this.server.setAttributes(this.common);
		for (const [field, attr] of REQUEST_NUMBERS) {
			const v = body[field];
			if (typeof v === "number") this.server.setAttribute(attr, v);
		}
		if (typeof body.model === "string" && body.model !== model)
			this.server.setAttribute("interchange.requested_model", body.model);
	}

	attempt(provider: TracedProvider, account: string, model: string): AttemptSpan {
		const system = genAiProviderName(provider.type);
		const span = this.tracing.tracer.startSpan(
			`${genAiOperationName(this.init.operation)} ${model}`,
			{
				kind: SpanKind.CLIENT,
				attributes: {
					[GEN_AI.operation]: genAiOperationName(this.init.operation),
					[GEN_AI.providerName]: system,
					[GEN_AI.system]: system,
					[GEN_AI.requestModel]: model,
					"interchange.provider": provider.name,
					"interchange.account": account,
				},
			},
			this.context,
		);
		const tracing = this.tracing;
		return {
			inject(headers) {
				if (tracing.propagate)
					tracing.propagator.inject(trace.setSpan(ROOT_CONTEXT, span), headers, defaultTextMapSetter);
			},
			answered(status) {
				span.setAttribute("http.response.status_code", status);
			},
			end(failure) {
				if (failure) {
					span.setAttribute("error.type", failure.code);
					span.setStatus({ code: SpanStatusCode.ERROR, message: failure.message });
				}
				span.end();
			},
		};
	}

	/** Opens the span of the relayed stream (now); the returned function ends it. */
	stream(): (outcome: StreamOutcome) => void {
		const span = this.tracing.tracer.startSpan("stream", { attributes: this.common }, this.context);
		const startedAt = this.init.startedAt;
		return (o) => {
			if (o.ttftMs !== null) {
				span.addEvent("first token", startedAt + o.ttftMs);
				span.setAttribute("interchange.time_to_first_token_ms", Math.round(o.ttftMs));
			}
			span.setAttribute("interchange.stream.completed", o.completed);
			if (o.cancelled) span.addEvent("client left");
			else if (o.errorCode !== null) {
				span.setAttribute("error.type", o.errorCode);
				span.setStatus({ code: SpanStatusCode.ERROR, message: o.errorCode });
			}
			span.end();
		};
	}

	/**
	 * The usage event was handed to the usage pipeline (RequestRecord.onWrite): the handoff's
	 * span, the request's outcome and token counts (the row's own), and the end of the trace.
	 */
	readonly written = (ev: UsageEvent, handoffStartedAt: number): void => {
		this.tracing.tracer.startSpan("usage write", { startTime: handoffStartedAt }, this.context).end();
		const s = this.server;
		s.setAttribute("http.response.status_code", ev.status);
		s.setAttribute("interchange.attempts", ev.attempts);
		if (ev.key_id !== null) s.setAttribute("interchange.key_id", ev.key_id);
		if (ev.account !== null) s.setAttribute("interchange.account", ev.account);
		s.setAttribute(GEN_AI.inputTokens, ev.prompt_tokens);
		s.setAttribute(GEN_AI.outputTokens, ev.completion_tokens);
		s.setAttribute("interchange.usage_source", ev.usage_source);
		if (ev.cost_usd !== null) s.setAttribute("interchange.cost_usd", ev.cost_usd);
		if (ev.error_code !== null) {
			s.setAttribute("error.type", ev.error_code);
			// a client's own mistake (4xx) or departure is not the gateway's error (HTTP conventions)
			if (ev.status >= 500 || ev.status === 200) s.setStatus({ code: SpanStatusCode.ERROR, message: ev.error_code });
		}
		s.end();
	};
}
