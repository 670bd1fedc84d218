/**
 * `bun bench/cpu-split.ts [plain|stream]`: where the CPU of one request goes, by process and
 * thread — gateway threads (from /proc/<pid>/task), Postgres backends, the mock upstream —
 * over a fixed closed-loop load. Prints microseconds of CPU per request for each.
 */
import { readdirSync, readFileSync } from "node:fs";
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
import { plainChat, streamedChat } from "./scenarios.ts";

const TICK_US = 10_000; // USER_HZ 100

function cpuOfStat(path: string): number {
	try {
		const s = readFileSync(path, "utf8");
		const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
		return (Number(f[11]) + Number(f[12])) * TICK_US;
	} catch {
		return 0;
	}
}

function threadsOf(pid: number): Map<string, number> {
	const out = new Map<string, number>();
	for (const tid of readdirSync(`/proc/${pid}/task`)) {
		let name = "?";
		try {
			name = readFileSync(`/proc/${pid}/task/${tid}/comm`, "utf8").trim();
		} catch {}
		const key = name === "Worker" ? `Worker#${tid}` : name;
		out.set(key, (out.get(key) ?? 0) + cpuOfStat(`/proc/${pid}/task/${tid}/stat`));
	}
	return out;
}

function postgresCpu(): number {
	let total = 0;
	for (const p of readdirSync("/proc")) {
		if (!/^\d+$/.test(p)) continue;
		try {
			const comm = readFileSync(`/proc/${p}/comm`, "utf8").trim();
			if (comm.startsWith("postgres")) total += cpuOfStat(`/proc/${p}/stat`);
		} catch {}
	}
	return total;
}

async function main(): Promise<void> {
	const scenario = process.argv[2] === "stream" ? streamedChat : plainChat;
	const target = process.argv[3] ?? "gateway";
	const mock = await startMockUpstream({ fast: true });
	// targets: bare (the pass-through), gateway (static key, one account), full (every feature on)
	let server: ServerProcess;
	let key = "bench-key";
	if (target === "bare") {
		server = await startBareProxy(mock.url);
		key = "bench";
	} else if (target === "full" || target === "full-static") {
		const full = await startFullGateway(mock.url, { GATEWAY_API_KEYS: "bench-key" });
		server = full.gw;
		if (target === "full") key = full.key;
	} else server = await startGateway(gatewayEnvFor(mock.url));
	// warm up
	await runLoad({ url: server.url, path: scenario.path, body: scenario.body, headers: { authorization: `Bearer ${key}` }, concurrency: 64, seconds: 2, warmupSeconds: 0, stream: scenario.stream });
	const t0 = threadsOf(server.pid);
	const pg0 = postgresCpu();
	const self0 = process.cpuUsage();
	const r = await runLoad({ url: server.url, path: scenario.path, body: scenario.body, headers: { authorization: `Bearer ${key}` }, concurrency: 64, seconds: Number(process.env.BENCH_SECONDS ?? 6), warmupSeconds: 0, stream: scenario.stream });
	// let the audit writer catch up before reading the counters
	await Bun.sleep(1000);
	const t1 = threadsOf(server.pid);
	const pg1 = postgresCpu();
	const self1 = process.cpuUsage(self0);
	const n = r.requests;
	console.log(`${scenario.name} / ${target}: ${r.rps.toFixed(0)} req/s, ${n} requests; CPU µs per request:`);
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
}

await runBench(main);
