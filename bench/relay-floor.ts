/**
 * `bun bench/relay-floor.ts`: the throughput a streaming proxy keeps once JavaScript sees the
 * stream's bytes at all. The same bare forwarder (bench/relay-floor-server.ts) in each relay
 * mode against the mock, streamed chat with usage, closed loop; CPU per request from /proc.
 * Any relay that reads usage off the stream pays at least this; the ratio against `native`
 * bounds what a usage-reading gateway can reach against a pass-through that never looks.
 * Env: RELAY_MODES (native,pull,direct,generator,transform), BENCH_SECONDS (5).
 */
import { freePort } from "../test/support/free-port.ts";
import { startMockUpstream } from "../test/support/mock-upstream.ts";
import { runBench, spawnServer } from "./gateway-process.ts";
import { runLoad } from "./load.ts";
import { processCpuMicros } from "./process-cpu.ts";
import { streamedChat } from "./scenarios.ts";

await runBench(async () => {
	const modes = (process.env.RELAY_MODES ?? "native,pull,direct,generator,transform").split(",");
	const seconds = Number(process.env.BENCH_SECONDS ?? 5);
	const mock = await startMockUpstream({ fast: true });
	const rows: { mode: string; rps: number; cpuUs: number }[] = [];
	try {
		for (const mode of modes) {
			const port = await freePort();
			const server = await spawnServer({
				cmd: [process.execPath, "bench/relay-floor-server.ts"],
				env: { UPSTREAM_URL: mock.url, PORT: String(port), RELAY_MODE: mode },
				port,
				readyPath: "/",
				readyTimeoutMs: 10_000,
				name: `relay ${mode}`,
			});
			const load = {
				url: server.url,
				path: streamedChat.path,
				body: streamedChat.body,
				concurrency: 64,
				stream: true,
			};
			await runLoad({ ...load, seconds: 2, warmupSeconds: 0 });
			const before = processCpuMicros(server.pid);
			const r = await runLoad({ ...load, seconds, warmupSeconds: 0 });
			const cpuUs = (processCpuMicros(server.pid) - before) / Math.max(1, r.requests);
			await server.stop();
			if (r.errors > 0) throw new Error(`${mode}: ${r.errors} errors`);
			rows.push({ mode, rps: Math.round(r.rps), cpuUs: Math.round(cpuUs * 10) / 10 });
		}
	} finally {
		await mock.stop();
	}
	const native = rows.find((r) => r.mode === "native")?.rps ?? 0;
	console.log("relay mode     req/s   CPU µs/req   vs native");
	for (const r of rows)
		console.log(
			`${r.mode.padEnd(12)}${String(r.rps).padStart(8)}${r.cpuUs.toFixed(1).padStart(13)}${native ? `   x${(r.rps / native).toFixed(2)}` : ""}`,
		);
});
