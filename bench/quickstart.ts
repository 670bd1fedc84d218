/**
 * `bun run bench:quickstart`: the quick start (one process, embedded PGlite) against one
 * instance on a real Postgres, both with usage recording on and the default worker count:
 * idle resident memory once ready, throughput of plain chat completions against the local
 * mock upstream, and memory after the load. Loopback only.
 * Env: BENCH_SECONDS (10) per run, BENCH_CONCURRENCY (32), DATABASE_URL (else the machine's
 * Postgres on 127.0.0.1:5432 when it answers; without one only the embedded mode runs).
 */
import { connect } from "node:net";
import { startMockUpstream } from "../test/support/mock-upstream.ts";
import { gatewayEnvFor, runBench, type ServerProcess, startGateway } from "./gateway-process.ts";
import { defaultSeconds, type LoadResult, runLoad } from "./load.ts";
import { rssMb } from "./process-rss.ts";
import { plainChat } from "./scenarios.ts";

/** How long the gateway sits idle after /readyz before its memory is read (start-up garbage settles). */
const IDLE_SETTLE_MS = 3_000;

interface ModeResult {
	mode: string;
	idleMb: number;
	loadedMb: number;
	result: LoadResult;
}

function reachable(host: string, port: number): Promise<boolean> {
	return new Promise((resolve) => {
		const socket = connect({ host, port, timeout: 1_000 });
		const done = (ok: boolean) => {
			socket.destroy();
			resolve(ok);
		};
		socket.once("connect", () => done(true));
		socket.once("error", () => done(false));
		socket.once("timeout", () => done(false));
	});
}

async function measure(mode: string, gw: ServerProcess, mockUrl: string): Promise<ModeResult> {
	try {
		await Bun.sleep(IDLE_SETTLE_MS);
		const idleMb = rssMb(gw.pid);
		const env = gatewayEnvFor(mockUrl);
		const result = await runLoad({
			url: gw.url,
			path: plainChat.path,
			body: plainChat.body,
			headers: { authorization: `Bearer ${env.GATEWAY_API_KEYS}` },
			concurrency: Number(process.env.BENCH_CONCURRENCY ?? 32),
			seconds: defaultSeconds(),
		});
		const loadedMb = rssMb(gw.pid);
		console.log(
			`  ${mode}: idle ${idleMb} MB, ${result.rps.toFixed(0)} req/s, p50 ${result.p50} ms, errors ${result.errors}, after load ${loadedMb} MB`,
		);
		return { mode, idleMb, loadedMb, result };
	} finally {
		await gw.stop();
	}
}

async function main(): Promise<number> {
	if (!process.env.DATABASE_URL && (await reachable("127.0.0.1", 5432))) {
		process.env.DATABASE_URL = "postgres://postgres@127.0.0.1:5432/postgres";
	}
	const mock = await startMockUpstream({ fast: true });
	const results: ModeResult[] = [];
	try {
		const env = gatewayEnvFor(mock.url);
		console.log("embedded database (no DATABASE_URL), first start on a fresh data dir …");
		results.push(await measure("embedded PGlite", await startGateway(env, { embedded: true }), mock.url));
		if (process.env.DATABASE_URL) {
			console.log("real Postgres (a fresh database on DATABASE_URL's server) …");
			results.push(await measure("Postgres", await startGateway(env), mock.url));
		} else {
			console.log("no Postgres reachable: the real-Postgres mode is skipped");
		}
	} finally {
		await mock.stop();
	}
	console.log("\n| mode | idle RSS | req/s | p50 ms | errors | RSS after load |");
	console.log("| --- | ---: | ---: | ---: | ---: | ---: |");
	for (const r of results) {
		console.log(
			`| ${r.mode} | ${r.idleMb} MB | ${r.result.rps.toFixed(0)} | ${r.result.p50} | ${r.result.errors} | ${r.loadedMb} MB |`,
		);
	}
	const [embedded, postgres] = results;
	if (embedded && postgres) {
		console.log(
			`\nembedded throughput / Postgres throughput: ${(embedded.result.rps / postgres.result.rps).toFixed(2)}`,
		);
	}
	return results.some((r) => r.result.errors > 0) ? 1 : 0;
}

runBench(main);
