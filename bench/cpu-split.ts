/**
 * `bun bench/cpu-split.ts [plain|stream]`: where the CPU of one request goes, by process and
 * thread — gateway threads (from /proc/<pid>/task), Postgres backends, the mock upstream —
 * over a fixed closed-loop load. Prints microseconds of CPU per request for each.
 * `BENCH_TRACING=on` traces every request (100% sampling) to an OTLP/HTTP sink in this process.
 */
import { startMockUpstream } from "../test/support/mock-upstream.ts";
import {
	gatewayEnvFor,
	runBench,
	type ServerProcess,
	startBareProxy,
	startFullGateway,
	startGateway,
} from "./gateway-process.ts";
import { runLoad } from "./load.ts";
import { cpuMicrosOfProcesses, threadCpuMicros } from "./process-cpu.ts";
import { plainChat, streamedChat } from "./scenarios.ts";

async function main(): Promise<void> {
	const scenario = process.argv[2] === "stream" ? streamedChat : plainChat;
	const target = process.argv[3] ?? "gateway";
	const mock = await startMockUpstream({ fast: true });
	// an OTLP/HTTP sink that takes every export and keeps nothing (its CPU counts as the bench's)
	const otlpSink =
		process.env.BENCH_TRACING === "on"
			? Bun.serve({
					port: 0,
					hostname: "127.0.0.1",
					fetch: async (req) => {
						await req.arrayBuffer();
						return Response.json({});
					},
				})
			: null;
	const tracingEnv: Record<string, string> = otlpSink
		? { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${otlpSink.port}`, OTEL_TRACES_SAMPLER: "always_on" }
		: {};
	// targets: bare (the pass-through), gateway (static key, one account), full (every feature on)
	let server: ServerProcess;
	let key = "bench-key";
	if (target === "bare") {
		server = await startBareProxy(mock.url);
		key = "bench";
	} else if (target === "full" || target === "full-static") {
		const full = await startFullGateway(mock.url, { GATEWAY_API_KEYS: "bench-key", ...tracingEnv });
		server = full.gw;
		if (target === "full") key = full.key;
	} else server = await startGateway({ ...gatewayEnvFor(mock.url), ...tracingEnv });
	// warm up
	await runLoad({
		url: server.url,
		path: scenario.path,
		body: scenario.body,
		headers: { authorization: `Bearer ${key}` },
		concurrency: 64,
		seconds: 2,
		warmupSeconds: 0,
		stream: scenario.stream,
	});
	const t0 = threadCpuMicros(server.pid);
	const pg0 = cpuMicrosOfProcesses("postgres");
	const self0 = process.cpuUsage();
	const r = await runLoad({
		url: server.url,
		path: scenario.path,
		body: scenario.body,
		headers: { authorization: `Bearer ${key}` },
		concurrency: 64,
		seconds: Number(process.env.BENCH_SECONDS ?? 6),
		warmupSeconds: 0,
		stream: scenario.stream,
	});
	// let the audit writer catch up before reading the counters
	await Bun.sleep(1000);
	const t1 = threadCpuMicros(server.pid);
	const pg1 = cpuMicrosOfProcesses("postgres");
	const self1 = process.cpuUsage(self0);
	const n = r.requests;
	console.log(
		`${scenario.name} / ${target}${otlpSink ? " (traced)" : ""}: ${r.rps.toFixed(0)} req/s, ${n} requests; CPU µs per request:`,
	);
	let total = 0;
	for (const [name, v] of t1) {
		const d = (v - (t0.get(name) ?? 0)) / n;
		total += d;
		if (d >= 0.5) console.log(`  ${target} thread ${name.padEnd(16)} ${d.toFixed(1)}`);
	}
	console.log(`  ${target} total            ${total.toFixed(1)}`);
	console.log(`  postgres                  ${((pg1 - pg0) / n).toFixed(1)}`);
	console.log(`  mock (bench process)      ${((self1.user + self1.system) / n).toFixed(1)}`);
	await server.stop();
	await mock.stop();
	otlpSink?.stop(true);
}

await runBench(main);
