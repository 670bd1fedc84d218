/**
 * `bun run bench`: mock upstream (fast mode, in this process), bare Elysia pass-through and
 * the gateway (child processes), driven by a load generator in a third process.
 * The gateway runs with every feature on (three accounts, audit to Postgres, metrics, a
 * database-backed key with RPM/TPM/concurrency/quotas/budget). Targets are measured in
 * BENCH_ROUNDS rotating rounds and the median round of each is reported: this shared 2-core
 * box drifts by ±10–20% over minutes, and rotation keeps a drift from deciding a ratio.
 * Env: BENCH_SECONDS (10), BENCH_WARMUP_SECONDS (2), BENCH_CONCURRENCY (64), BENCH_ROUNDS (3),
 * BENCH_TARGETS (mock,bare,core,gateway; core = the env quick start with audit off), DATABASE_URL (passed to the gateway).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startMockUpstream } from "../test/support/mock-upstream.ts";
import { formatFeatures, runFeatureComparison } from "./features.ts";
import {
	gatewayEnvFor,
	runBench,
	type ServerProcess,
	startBareProxy,
	startFullGateway,
	startGateway,
} from "./gateway-process.ts";
import { defaultSeconds, runLoad } from "./load.ts";
import { type BenchRow, formatTable, perRoundRatio, type Ratio } from "./report.ts";
import { defaultScenarios, type Scenario, type Target } from "./scenarios.ts";

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

/** The env quick start (static key, one provider), no audit. */
const CORE = "gateway core";
/** Every feature on. */
const FULL = "gateway";

/** One request of each scenario, checked, so a broken target is skipped rather than measured. */
async function sanityCheck(target: Target, scenarios: Scenario[]): Promise<string | null> {
	for (const s of scenarios) {
		try {
			const res = await fetch(`${target.url}${s.path}`, {
				method: "POST",
				headers: { "content-type": "application/json", ...target.headers },
				body: JSON.stringify(s.body),
				signal: AbortSignal.timeout(10_000),
			});
			const text = await res.text();
			if (res.status !== 200) return `${s.name}: HTTP ${res.status} ${text.slice(0, 200)}`;
			if (s.stream && !text.endsWith("data: [DONE]\n\n")) return `${s.name}: stream does not end with [DONE]`;
			if (!text.includes('"completion_tokens":')) return `${s.name}: no usage in the reply`;
		} catch (e) {
			return `${s.name}: ${e instanceof Error ? e.message : String(e)}`;
		}
	}
	return null;
}

/**
 * Gateway / pass-through per scenario: req/s as the median of per-round ratios (each round
 * measures both within a minute, so the box's drift cancels), latencies from the median rows.
 */
function ratiosOf(rows: BenchRow[], runs: Map<string, BenchRow[]>): Ratio[] {
	const out: Ratio[] = [];
	const r2 = (n: number) => Math.round(n * 100) / 100;
	for (const scenario of new Set(rows.map((r) => r.scenario))) {
		const bare = rows.find((r) => r.scenario === scenario && r.target === "pass-through")?.result;
		if (!bare || bare.rps === 0 || bare.p50 === 0 || bare.p99 === 0) continue;
		const bareRuns = runs.get(`${scenario}\u0000pass-through`) ?? [];
		for (const target of [CORE, FULL]) {
			const gw = rows.find((r) => r.scenario === scenario && r.target === target)?.result;
			if (!gw) continue;
			const perRound = perRoundRatio(
				(runs.get(`${scenario}\u0000${target}`) ?? []).map((g) => g.result.rps),
				bareRuns.map((b) => b.result.rps),
			);
			out.push({
				scenario,
				target,
				rps: r2(perRound?.median ?? gw.rps / bare.rps),
				p50: r2(gw.p50 / bare.p50),
				p99: r2(gw.p99 / bare.p99),
			});
		}
	}
	return out;
}

async function main(): Promise<number> {
	const wanted = new Set((process.env.BENCH_TARGETS ?? "mock,bare,core,gateway").split(",").map((s) => s.trim()));
	const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 64);
	const scenarios = defaultScenarios;
	const mock = await startMockUpstream({ fast: true });
	const servers: ServerProcess[] = [];
	const notes: string[] = [];
	const targets: Target[] = [];
	try {
		if (wanted.has("mock"))
			targets.push({
				name: "mock direct",
				url: mock.url,
				headers: bearer("bench"),
			});
		if (wanted.has("bare")) {
			const bare = await startBareProxy(mock.url);
			servers.push(bare);
			targets.push({
				name: "pass-through",
				url: bare.url,
				headers: bearer("bench"),
			});
		}
		if (wanted.has("core")) {
			const core = await startGateway({ ...gatewayEnvFor(mock.url), GATEWAY_AUDIT: "off" });
			servers.push(core);
			targets.push({ name: CORE, url: core.url, headers: bearer(gatewayEnvFor(mock.url).GATEWAY_API_KEYS) });
		}
		if (wanted.has("gateway")) {
			console.log("starting the gateway (bun run src/index.ts, every feature on) …");
			try {
				const { gw, key } = await startFullGateway(mock.url);
				servers.push(gw);
				targets.push({
					name: FULL,
					url: gw.url,
					headers: bearer(key),
				});
			} catch (e) {
				const msg = e instanceof Error ? e.message : String(e);
				notes.push(`gateway skipped: it did not become ready.\n${msg.slice(0, 1500)}`);
				console.log(`SKIP gateway: it did not become ready (${msg.split("\n")[0]})`);
			}
		}
		for (const t of [...targets]) {
			const problem = await sanityCheck(t, scenarios);
			if (problem) {
				notes.push(`${t.name} skipped: ${problem}`);
				console.log(`SKIP ${t.name}: ${problem}`);
				targets.splice(targets.indexOf(t), 1);
			}
		}

		const seconds = defaultSeconds();
		console.log(
			`load: ${concurrency} connections, ${seconds} s per run after warm-up, targets: ${targets.map((t) => t.name).join(", ")}`,
		);
		const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
		const runs = new Map<string, BenchRow[]>();
		for (let round = 0; round < rounds; round++) {
			for (const s of scenarios) {
				const order = round % 2 === 0 ? targets : [...targets].reverse();
				for (const t of order) {
					const result = await runLoad({
						url: t.url,
						path: s.path,
						body: s.body,
						headers: t.headers,
						concurrency,
						seconds,
						stream: s.stream,
					});
					const k = `${s.name}\u0000${t.name}`;
					runs.set(k, [...(runs.get(k) ?? []), { scenario: s.name, target: t.name, result }]);
					console.log(
						`  round ${round + 1}: ${s.name} / ${t.name}: ${result.rps.toFixed(0)} req/s, p50 ${result.p50} ms, errors ${result.errors}`,
					);
				}
			}
		}
		// the median round of each (scenario, target), errors summed over all rounds
		const rows: BenchRow[] = [];
		for (const s of scenarios) {
			for (const t of targets) {
				const all = runs.get(`${s.name}\u0000${t.name}`) ?? [];
				const sorted = [...all].sort((a, b) => a.result.rps - b.result.rps);
				const median = sorted[Math.floor(sorted.length / 2)];
				if (!median) continue;
				const errors = all.reduce((n, r) => n + r.result.errors, 0);
				rows.push({ ...median, result: { ...median.result, errors } });
			}
		}
		const ratios = ratiosOf(rows, runs);
		console.log(`\n${formatTable(rows, ratios)}`);
		for (const n of notes) console.log(`\nnote: ${n}`);

		// the gateway under test is stopped first: variants must not share the cores with it
		for (const s of servers.splice(0)) await s.stop().catch(() => {});
		let features: Awaited<ReturnType<typeof runFeatureComparison>> | null = null;
		if (wanted.has("gateway") && process.env.BENCH_FEATURES !== "0") {
			const featureSeconds = Number(process.env.BENCH_FEATURE_SECONDS ?? Math.min(seconds, 5));
			console.log(
				`\nfeature costs: gateway variants, ${featureSeconds} s per run in rotating rounds (rows: trimmed means; ratios: medians of per-round ratios)`,
			);
			features = await runFeatureComparison(mock, concurrency, featureSeconds);
			console.log(`\n${formatFeatures(features.rows, features.ratios)}`);
		}

		const dir = join(import.meta.dir, "results");
		mkdirSync(dir, { recursive: true });
		const file = join(dir, "latest.json");
		const report = {
			at: new Date().toISOString(),
			bun: Bun.version,
			cpus: navigator.hardwareConcurrency,
			concurrency,
			seconds,
			rounds: Number(process.env.BENCH_ROUNDS ?? 3),
			gateway: "every feature on: 3 accounts, audit, metrics, DB-backed key with RPM/TPM/concurrency/quotas/budget",
			database: process.env.DATABASE_URL ? "postgres (DATABASE_URL)" : "embedded PGlite",
			rows,
			ratios,
			features,
			notes,
		};
		writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
		console.log(`\nwrote ${file}`);
		return rows.some((r) => r.result.requests === 0) ? 1 : 0;
	} finally {
		for (const s of servers) await s.stop().catch(() => {});
		await mock.stop();
	}
}

await runBench(main);
