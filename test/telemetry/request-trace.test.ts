import { describe, expect, test } from "bun:test";
import { JsonTraceSerializer } from "@opentelemetry/otlp-transformer";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { AlwaysOffSampler, AlwaysOnSampler, ParentBasedSampler } from "@opentelemetry/sdk-trace";
import { TraceReader, type TraceRecord } from "../../src/telemetry/trace-record.ts";
import { type TraceSink, Tracing } from "../../src/telemetry/tracing.ts";
import type { UsageEvent } from "../../src/usage/usage-event.ts";
import { waitFor } from "../support/wait-for.ts";

/** The request path's tracing: recorded as plain records, batched to a sink, read back into OTLP. */

class CapturingSink implements TraceSink {
	readonly batches: TraceRecord[][] = [];
	send(traces: TraceRecord[]): void {
		this.batches.push(traces);
	}
	async close(): Promise<void> {}
}

type AnyValue = { stringValue?: string; intValue?: number | string; doubleValue?: number; boolValue?: boolean };
interface OtlpSpan {
	traceId: string;
	spanId: string;
	parentSpanId?: string;
	traceState?: string;
	name: string;
	kind: number;
	startTimeUnixNano: string;
	endTimeUnixNano: string;
	attributes: { key: string; value: AnyValue }[];
	events: { name: string; timeUnixNano: string }[];
	status: { code?: number; message?: string };
}

const attr = (s: OtlpSpan, key: string) => s.attributes.find((a) => a.key === key)?.value;

const usage = {
	request_id: "req-1",
	status: 200,
	attempts: 2,
	key_id: "key-1",
	account: "healthy",
	prompt_tokens: 12,
	completion_tokens: 34,
	usage_source: "upstream",
	cost_usd: 0.25,
	error_code: null,
	user_agent: "test-agent",
} as unknown as UsageEvent;
const provider = { name: "pool", type: "openai" };

function request(headers: Record<string, string> = {}): Request {
	return new Request("http://127.0.0.1:8080/v1/chat/completions?x=1", { method: "POST", headers });
}

/** A streamed chat that failed over once, as the request path traces it; returns the record. */
function tracedRequest(tracing: Tracing, req: Request, upstreamHeaders: Record<string, string>[] = []): void {
	const startedAt = performance.now();
	const trace = tracing.begin(req, {
		endpoint: "/v1/chat/completions",
		operation: "chat",
		requestId: "req-1",
		startedAt,
	});
	if (!trace) throw new Error("not traced");
	trace.phase("auth", startedAt);
	trace.routed(provider, "gpt-4o-mini", { model: "fast", max_tokens: 40, temperature: 0.5 });
	trace.phase("admission", performance.now());
	const failed = trace.attempt(provider, "broken", "gpt-4o-mini");
	const h1: Record<string, string> = {};
	failed.inject(h1);
	failed.answered(503);
	failed.end({ code: "UPSTREAM_SERVER_ERROR", message: "503 from upstream" });
	const served = trace.attempt(provider, "healthy", "gpt-4o-mini");
	const h2: Record<string, string> = {};
	served.inject(h2);
	served.answered(200);
	served.end(null);
	upstreamHeaders.push(h1, h2);
	trace.stream()({ ttftMs: 2.5, completed: true, cancelled: false, errorCode: null });
	trace.written(usage, performance.now());
}

/** Records → the SDK's ReadableSpans → the official OTLP/JSON serializer → its spans. */
function otlpSpans(records: TraceRecord[]): OtlpSpan[] {
	const reader = new TraceReader({
		resource: resourceFromAttributes({ "service.name": "t" }),
		scope: { name: "interchange", version: "1" },
		timeOrigin: performance.timeOrigin,
	});
	const bytes = JsonTraceSerializer.serializeRequest(records.flatMap((r) => reader.read(r))) as Uint8Array;
	const body = JSON.parse(new TextDecoder().decode(bytes));
	return body.resourceSpans.flatMap((rs: { scopeSpans: { spans: OtlpSpan[] }[] }) =>
		rs.scopeSpans.flatMap((ss) => ss.spans),
	);
}

describe("request traces", () => {
	test("a request's spans reach OTLP as the SDK's would: server span, its children, attributes, times, statuses", () => {
		const sink = new CapturingSink();
		const tracing = new Tracing(null, new AlwaysOnSampler(), false, false, sink);
		const before = Date.now();
		tracedRequest(tracing, request({ "user-agent": "test-agent" }));
		void tracing.shutdown();
		const spans = otlpSpans(sink.batches.flat());
		expect(spans.map((s) => s.name).sort()).toEqual(
			[
				"POST /v1/chat/completions",
				"admission",
				"auth",
				"chat gpt-4o-mini",
				"chat gpt-4o-mini",
				"stream",
				"usage write",
			].sort(),
		);
		const server = spans.find((s) => s.kind === 2) as OtlpSpan;
		expect(server.parentSpanId || undefined).toBeUndefined();
		expect(server.traceId).toMatch(/^[0-9a-f]{32}$/);
		expect(new Set(spans.map((s) => s.spanId)).size).toBe(7);
		for (const s of spans) {
			expect(s.traceId).toBe(server.traceId);
			if (s !== server) expect(s.parentSpanId).toBe(server.spanId);
			expect(BigInt(s.endTimeUnixNano)).toBeGreaterThanOrEqual(BigInt(s.startTimeUnixNano));
		}
		// wall-clock times: performance.now() of the recording thread, from its time origin
		const startMs = Number(BigInt(server.startTimeUnixNano) / 1_000_000n);
		expect(startMs).toBeGreaterThanOrEqual(before - 1);
		expect(startMs).toBeLessThanOrEqual(Date.now() + 1);
		expect(attr(server, "url.path")?.stringValue).toBe("/v1/chat/completions");
		expect(attr(server, "user_agent.original")?.stringValue).toBe("test-agent");
		expect(attr(server, "gen_ai.request.model")?.stringValue).toBe("gpt-4o-mini");
		expect(attr(server, "interchange.requested_model")?.stringValue).toBe("fast");
		expect(Number(attr(server, "gen_ai.request.max_tokens")?.intValue)).toBe(40);
		expect(attr(server, "gen_ai.request.temperature")?.doubleValue).toBe(0.5);
		expect(Number(attr(server, "gen_ai.usage.output_tokens")?.intValue)).toBe(34);
		expect(attr(server, "interchange.cost_usd")?.doubleValue).toBe(0.25);
		expect(server.status.code ?? 0).toBe(0);

		const attempts = spans.filter((s) => s.kind === 3);
		const failed = attempts.find((s) => attr(s, "interchange.account")?.stringValue === "broken") as OtlpSpan;
		expect(failed.status).toEqual({ code: 2, message: "503 from upstream" });
		expect(attr(failed, "error.type")?.stringValue).toBe("UPSTREAM_SERVER_ERROR");
		expect(Number(attr(failed, "http.response.status_code")?.intValue)).toBe(503);
		const stream = spans.find((s) => s.name === "stream") as OtlpSpan;
		expect(stream.events.map((e) => e.name)).toEqual(["first token"]);
		const ttftNs = BigInt(stream.events[0].timeUnixNano) - BigInt(server.startTimeUnixNano);
		expect(Math.abs(Number(ttftNs) - 2_500_000)).toBeLessThan(2_000);
		expect(attr(stream, "interchange.stream.completed")?.boolValue).toBe(true);
	});

	test("finished traces go to the sink in batches, never one export per request", async () => {
		const sink = new CapturingSink();
		const tracing = new Tracing(null, new AlwaysOnSampler(), false, false, sink);
		for (let i = 0; i < 63; i++) tracedRequest(tracing, request());
		expect(sink.batches.length).toBe(0);
		tracedRequest(tracing, request());
		expect(sink.batches.map((b) => b.length)).toEqual([64]);
		// a batch that does not fill goes on its own timer
		tracedRequest(tracing, request());
		await waitFor(() => sink.batches.length === 2, { what: "the partial batch" });
		expect(sink.batches[1].length).toBe(1);
	});

	test("a caller's traceparent and tracestate: the parent, the trace id, and what goes upstream", () => {
		const sink = new CapturingSink();
		const tracing = new Tracing(null, new ParentBasedSampler({ root: new AlwaysOnSampler() }), true, true, sink);
		const upstream: Record<string, string>[] = [];
		const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
		tracedRequest(
			tracing,
			request({ traceparent: `00-${traceId}-00f067aa0ba902b7-01`, tracestate: "vendor=abc" }),
			upstream,
		);
		void tracing.shutdown();
		const spans = otlpSpans(sink.batches.flat());
		const server = spans.find((s) => s.kind === 2) as OtlpSpan;
		expect(server.traceId).toBe(traceId);
		expect(server.parentSpanId).toBe("00f067aa0ba902b7");
		expect(spans.every((s) => s.traceState === "vendor=abc")).toBe(true);
		const served = spans.find((s) => attr(s, "interchange.account")?.stringValue === "healthy") as OtlpSpan;
		expect(upstream[1].traceparent).toBe(`00-${traceId}-${served.spanId}-01`);
		expect(upstream[1].tracestate).toBe("vendor=abc");
	});

	test("a trace the sampler drops is not recorded, or only propagated (unsampled) when propagation is on", () => {
		const sink = new CapturingSink();
		expect(
			new Tracing(new AlwaysOffSampler(), new AlwaysOffSampler(), false, false, sink).begin(request(), {
				endpoint: "/v1/chat/completions",
				operation: "chat",
				requestId: "r",
				startedAt: performance.now(),
			}),
		).toBeNull();
		const propagating = new Tracing(new AlwaysOffSampler(), new AlwaysOffSampler(), true, true, sink);
		const upstream: Record<string, string>[] = [];
		tracedRequest(propagating, request(), upstream);
		void propagating.shutdown();
		expect(upstream[0].traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
		expect(sink.batches.length).toBe(0);
	});
});
