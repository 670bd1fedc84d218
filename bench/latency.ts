/**
 * `bun run bench:latency`: the latency the gateway adds, open loop (no coordinated omission),
 * at fixed request rates against the mock direct and through the gateway; plus time to first
 * byte on streams at a low rate, and throughput with 1 vs N HTTP workers.
 * Env: LAT_RATES (500,2000,5000), LAT_SECONDS (5), LAT_STREAM_RATE (500).
 */
import { join } from "node:path";
import { startMockUpstream } from "../test/support/mock-upstream.ts";
import { gatewayEnvFor, runBench, startGateway } from "./gateway-process.ts";
import { runLoad } from "./load.ts";
import type { OpenLoopResult, OpenLoopSpec } from "./open-loop-worker.ts";
import { plainChat, type Scenario, streamedChat } from "./scenarios.ts";

const RATES = (process.env.LAT_RATES ?? "500,2000,5000").split(",").map(Number);
const SECONDS = Number(process.env.LAT_SECONDS ?? 5);
const STREAM_RATE = Number(process.env.LAT_STREAM_RATE ?? 500);
const WORKER = join(import.meta.dir, "open-loop-worker.ts");

/** The generator runs in its own process so it does not share an event loop with a target. */
async function openLoop(spec: OpenLoopSpec): Promise<OpenLoopResult> {
	const child = Bun.spawn([process.execPath, WORKER, JSON.stringify(spec)], {
		stdout: "pipe",
		stderr: "inherit",
	});
	const out = await new Response(child.stdout).text();
	await child.exited;
	return JSON.parse(out.trim().split("\n").at(-1) ?? "{}") as OpenLoopResult;
}

const fmt = (n: number) => n.toFixed(2).padStart(8);

async function main(): Promise<void> {
	const mock = await startMockUpstream({ fast: true });
	const lines: string[] = [];
	try {
		const gw = await startGateway(gatewayEnvFor(mock.url));
		try {
			lines.push("open loop, plain chat: latency from the due time (ms)");
			lines.push("rate/s   target     p50      p99    p99.9   errors  | added p50  added p99  added p99.9");
			/** The same open-loop load on the mock directly, then through the gateway. */
			const directAndVia = async (scenario: Scenario, rate: number) => {
				const base = { path: scenario.path, body: scenario.body, rate, seconds: SECONDS, warmupSeconds: 1 };
				const direct = await openLoop({ ...base, url: mock.url, headers: { authorization: "Bearer bench" } });
				const via = await openLoop({ ...base, url: gw.url, headers: { authorization: "Bearer bench-key" } });
				return { direct, via };
			};
			for (const rate of RATES) {
				const { direct, via } = await directAndVia(plainChat, rate);
				lines.push(
					`${String(rate).padStart(6)}   direct ${fmt(direct.p50)} ${fmt(direct.p99)} ${fmt(direct.p999)} ${String(direct.errors).padStart(8)}  |`,
				);
				lines.push(
					`${String(rate).padStart(6)}   gateway${fmt(via.p50)} ${fmt(via.p99)} ${fmt(via.p999)} ${String(via.errors).padStart(8)}  | ${fmt(via.p50 - direct.p50)}   ${fmt(via.p99 - direct.p99)}   ${fmt(via.p999 - direct.p999)}`,
				);
				console.log(lines.slice(-2).join("\n"));
			}
			const { direct: sDirect, via: sVia } = await directAndVia(streamedChat, STREAM_RATE);
			lines.push(
				"",
				`streams at ${STREAM_RATE}/s, time to first byte (ms): direct p50 ${sDirect.ttfbP50} p99 ${sDirect.ttfbP99}; gateway p50 ${sVia.ttfbP50} p99 ${sVia.ttfbP99}; added p50 ${(sVia.ttfbP50 - sDirect.ttfbP50).toFixed(3)}`,
			);
			console.log(lines.at(-1));
		} finally {
			await gw.stop();
		}
		lines.push("", "closed loop, plain chat, 64 connections: HTTP workers");
		for (const workers of ["1", "2"]) {
			const gw = await startGateway({
				...gatewayEnvFor(mock.url),
				GATEWAY_HTTP_WORKERS: workers,
			});
			try {
				const r = await runLoad({
					url: gw.url,
					path: plainChat.path,
					body: plainChat.body,
					headers: { authorization: "Bearer bench-key" },
					concurrency: 64,
					seconds: SECONDS,
				});
				lines.push(`  ${workers} worker(s): ${Math.round(r.rps)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms`);
				console.log(lines.at(-1));
			} finally {
				await gw.stop();
			}
		}
	} finally {
		await mock.stop();
	}
	console.log(`\n${lines.join("\n")}`);
}

await runBench(main);
