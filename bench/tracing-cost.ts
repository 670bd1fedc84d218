/**
 * `bun bench/tracing-cost.ts [requests]`: the CPU one traced request costs, without the rest of
 * the gateway. Runs the request path's tracing calls (begin → auth → routed → admission →
 * attempt → stream → usage write) in this thread, with the finished traces
 *   - dropped (recording only),
 *   - exported on this thread (the SDK's batch processor and OTLP/HTTP exporter inline),
 *   - posted to the exporter's thread (as the gateway does),
 * and the exporter posting to an OTLP/HTTP sink in a child process, at a steady 10,000 requests
 * per second. The first pass warms the JIT (the exporter thread's too); the second counts. Prints CPU µs per request of this thread, of the process's other threads
 * (exporter thread, HTTP client) and of the sink, and the spans the sink received per request.
 */
import { AlwaysOnSampler } from "@opentelemetry/sdk-trace";
import type { RequestTrace } from "../src/telemetry/request-trace.ts";
import { otlpTraceExport } from "../src/telemetry/trace-export.ts";
import type { TraceExportInit } from "../src/telemetry/trace-export-protocol.ts";
import { TraceExportThread } from "../src/telemetry/trace-export-thread.ts";
import { type TraceSink, Tracing } from "../src/telemetry/tracing.ts";
import type { UsageEvent } from "../src/usage/usage-event.ts";
import { processCpuMicros, statCpuMicros } from "./process-cpu.ts";

const N = Number(process.argv[2] ?? 40_000);
const CHUNK = 256;

/** Requests per second the loop is held to: a busy gateway's rate, which the exporter must keep up with. */
const RATE = 10_000;

/** An OTLP/HTTP receiver in its own process (its CPU told apart) that counts the spans it gets. */
async function startSink(): Promise<{ url: string; pid: number; stop: () => void }> {
	const code = `let spans = 0; const key = Buffer.from('"spanId"');
const s = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: async (r) => {
	if (r.method === "GET") return Response.json(spans);
	const b = Buffer.from(await r.arrayBuffer());
	for (let i = b.indexOf(key); i >= 0; i = b.indexOf(key, i + 1)) spans++;
	return Response.json({});
} });
console.log(s.port);`;
	const child = Bun.spawn([process.execPath, "-e", code], { stdout: "pipe" });
	const reader = child.stdout.getReader();
	const { value } = await reader.read();
	const port = Number(new TextDecoder().decode(value).trim());
	return { url: `http://127.0.0.1:${port}`, pid: child.pid, stop: () => child.kill() };
}

const request = new Request("http://127.0.0.1:8080/v1/chat/completions", {
	method: "POST",
	headers: { "user-agent": "OpenAI/JS 7.57.0" },
});
const usage = {
	request_id: "0190b6c4-7d2e-7c3a-9f1e-3b2a1c0d9e8f",
	status: 200,
	attempts: 1,
	key_id: "key_0190b6c47d2e",
	account: "primary",
	prompt_tokens: 24,
	completion_tokens: 187,
	usage_source: "upstream",
	cost_usd: 0.000116,
	error_code: null,
	user_agent: "OpenAI/JS 7.57.0",
} as unknown as UsageEvent;
const provider = { name: "openai", type: "openai" };
const body = { model: "gpt-4o-mini", max_tokens: 256, temperature: 0.7, stream: true };

/** The tracing calls of one proxied chat request, in the order the request path makes them. */
function oneRequest(tracing: Tracing, stream: boolean): void {
	const startedAt = performance.now();
	const trace = tracing.begin(request, {
		endpoint: "/v1/chat/completions",
		operation: "chat",
		requestId: usage.request_id,
		startedAt,
	}) as RequestTrace;
	trace.phase("auth", startedAt);
	trace.routed(provider, "gpt-4o-mini", body);
	trace.phase("admission", performance.now());
	const attempt = trace.attempt(provider, "primary", "gpt-4o-mini");
	attempt.inject({});
	attempt.answered(200);
	attempt.end(null);
	if (stream) trace.stream()({ ttftMs: 2.5, completed: true, cancelled: false, errorCode: null });
	trace.written(usage, performance.now());
}

interface Variant {
	name: string;
	exports: boolean;
	sink: (init: TraceExportInit) => TraceSink;
}

const variants: Variant[] = [
	{ name: "record only (traces dropped)", exports: false, sink: () => ({ send() {}, close: async () => {} }) },
	{
		name: "record + export on this thread",
		exports: true,
		sink: (init) => {
			const exp = otlpTraceExport(init);
			return { send: (t) => exp.add(t), close: () => exp.shutdown() };
		},
	},
	{ name: "record + exporter thread", exports: true, sink: (init) => new TraceExportThread(init) },
];

const exportedSpans = async (sinkUrl: string) => (await (await fetch(sinkUrl)).json()) as number;

/**
 * One variant's runs share its sink (an exporter thread lives as long as its HTTP worker, so
 * its JIT is warm); a run ends when the sink has every span, or after 5 s.
 */
async function run(v: Variant, sink: TraceSink, stream: boolean, sinkUrl: string, sinkPid: number): Promise<void> {
	const spans0 = await exportedSpans(sinkUrl);
	const tracing = new Tracing(null, new AlwaysOnSampler(), false, false, {
		send: (t) => sink.send(t),
		close: async () => {},
	});
	const self = `/proc/${process.pid}/task/${process.pid}/stat`;
	const main0 = statCpuMicros(self);
	const all0 = processCpuMicros(process.pid);
	const sink0 = processCpuMicros(sinkPid);
	const t0 = performance.now();
	for (let i = 0; i < N; i += CHUNK) {
		for (let j = 0; j < CHUNK; j++) oneRequest(tracing, stream);
		// let timers, messages and exports run, as between a gateway's requests, at RATE
		await Bun.sleep(Math.max(0, t0 + ((i + CHUNK) / RATE) * 1000 - performance.now()));
	}
	await tracing.shutdown();
	const expected = v.exports ? N * (stream ? 6 : 5) : 0;
	for (const until = performance.now() + 5_000; performance.now() < until; await Bun.sleep(50)) {
		if ((await exportedSpans(sinkUrl)) - spans0 >= expected) break;
	}
	const main = (statCpuMicros(self) - main0) / N;
	const others = (processCpuMicros(process.pid) - all0) / N - main;
	const sinkCpu = (processCpuMicros(sinkPid) - sink0) / N;
	const exported = (await exportedSpans(sinkUrl)) - spans0;
	console.log(
		`${v.name.padEnd(32)} ${stream ? "stream" : "plain "}  this thread ${main.toFixed(1).padStart(5)} µs   other threads ${others.toFixed(1).padStart(5)} µs   sink ${sinkCpu.toFixed(1).padStart(5)} µs   total ${(main + others + sinkCpu).toFixed(1).padStart(5)} µs   spans exported ${(exported / N).toFixed(2)}/req`,
	);
}

// BENCH_TRACING_VARIANT (a part of a variant's name) runs only the matching ones
const only = process.env.BENCH_TRACING_VARIANT;
if (only) variants.splice(0, variants.length, ...variants.filter((v) => v.name.includes(only)));
const sinkProc = await startSink();
try {
	console.log(`CPU per traced request (${N} requests, 100% sampling, 10 ms CPU ticks):`);
	// a first pass warms the JIT; the second is reported
	const init: TraceExportInit = {
		url: `${sinkProc.url}/v1/traces`,
		headers: {},
		resource: { "service.name": "interchange-bench" },
		scope: { name: "interchange", version: "bench" },
		timeOrigin: performance.timeOrigin,
	};
	const sinks = variants.map((v) => v.sink(init));
	for (const pass of [0, 1]) {
		if (pass === 1) console.log("");
		for (const [i, v] of variants.entries())
			for (const stream of [false, true]) await run(v, sinks[i], stream, sinkProc.url, sinkProc.pid);
	}
	for (const sink of sinks) await sink.close(3_000);
} finally {
	sinkProc.stop();
}
