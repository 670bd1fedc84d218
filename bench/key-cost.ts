/**
 * `bun bench/key-cost.ts`: what a virtual key costs against a static key, in ONE gateway
 * (every feature on) so nothing but the key differs: "virtual" has every limit (RPM, TPM,
 * concurrency, daily quotas, budget; its tenant has none), "unlimited" is a virtual key with
 * no limit. Rounds run the three keys back to back (the order rotates each round); each
 * reports req/s and CPU µs per request of the gateway's threads and of Postgres, and the
 * summary gives the medians.
 * Env: ROUNDS (8), BENCH_SECONDS (4), DATABASE_URL (a fresh database is made from it).
 */
import { startMockUpstream } from "../test/support/mock-upstream.ts";
import { createLimitedKey, runBench, startFullGateway } from "./gateway-process.ts";
import { runLoad } from "./load.ts";
import { cpuMicrosOfProcesses, threadCpuMicros } from "./process-cpu.ts";
import { perRoundRatio } from "./report.ts";
import { plainChat } from "./scenarios.ts";

const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)] ?? 0;

await runBench(async () => {
	const mock = await startMockUpstream({ fast: true });
	const { gw, key } = await startFullGateway(mock.url, { GATEWAY_API_KEYS: "bench-key" });
	const keys: Record<string, string> = {
		static: "bench-key",
		virtual: key,
		unlimited: await createLimitedKey(gw, false),
	};
	const names = Object.keys(keys);
	const seconds = Number(process.env.BENCH_SECONDS ?? 4);
	const load = (k: string, s: number) =>
		runLoad({
			url: gw.url,
			path: plainChat.path,
			body: plainChat.body,
			headers: { authorization: `Bearer ${keys[k]}` },
			concurrency: 64,
			seconds: s,
			warmupSeconds: 0,
			stream: false,
		});
	try {
		for (const k of names) await load(k, 2);
		const res: Record<string, { rps: number[]; gateway: number[]; postgres: number[] }> = {};
		for (const k of names) res[k] = { rps: [], gateway: [], postgres: [] };
		const rounds = Number(process.env.ROUNDS ?? 8);
		for (let r = 0; r < rounds; r++) {
			const line: string[] = [];
			for (const k of names.map((_, i) => names[(i + r) % names.length])) {
				const t0 = threadCpuMicros(gw.pid);
				const p0 = cpuMicrosOfProcesses("postgres");
				const x = await load(k, seconds);
				const t1 = threadCpuMicros(gw.pid);
				const p1 = cpuMicrosOfProcesses("postgres");
				let total = 0;
				for (const [name, v] of t1) total += v - (t0.get(name) ?? 0);
				const n = Math.max(1, x.requests);
				res[k].rps.push(x.rps);
				res[k].gateway.push(total / n);
				res[k].postgres.push((p1 - p0) / n);
				line.push(
					`${k} ${x.rps.toFixed(0)} req/s, gateway ${(total / n).toFixed(1)} µs, postgres ${((p1 - p0) / n).toFixed(1)} µs`,
				);
			}
			console.log(`round ${r + 1}: ${line.join(" | ")}`);
		}
		for (const k of ["virtual", "unlimited"]) {
			const r = perRoundRatio(res[k].rps, res.static.rps);
			if (r)
				console.log(
					`${k} / static req/s: median of rounds x${r.median.toFixed(3)} (x${r.min.toFixed(2)}–x${r.max.toFixed(2)})`,
				);
		}
		for (const k of names)
			console.log(
				`${k.padEnd(9)} CPU µs per request: gateway ${median(res[k].gateway).toFixed(1)}, postgres ${median(res[k].postgres).toFixed(1)}`,
			);
	} finally {
		await gw.stop();
		await mock.stop();
	}
});
