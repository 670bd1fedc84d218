/**
 * `bun bench/profile.ts [plain|stream] [full|full-static]`: runs the gateway under Bun's CPU profiler
 * (markdown profile in PROFILE_DIR, default ./bench/results/profile) for a fixed load,
 * to see where a request's CPU goes. One HTTP worker unless GATEWAY_HTTP_WORKERS is set.
 * `BENCH_TRACING=on` traces every request (100% sampling) to an OTLP/HTTP sink in this process.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "../test/support/free-port.ts";
import { dropDatabase, freshDatabaseUrl } from "../test/support/gateway-server.ts";
import { startMockUpstream } from "../test/support/mock-upstream.ts";
import {
	BENCH_ADMIN_TOKEN,
	configFile,
	createLimitedKey,
	gatewayEnvFor,
	runBench,
	spawnServer,
} from "./gateway-process.ts";
import { runLoad } from "./load.ts";
import { plainChat, streamedChat } from "./scenarios.ts";

async function main(): Promise<void> {
	const scenario = process.argv[2] === "stream" ? streamedChat : plainChat;
	const dir = process.env.PROFILE_DIR ?? join(import.meta.dir, "results", "profile");
	mkdirSync(dir, { recursive: true });
	const mock = await startMockUpstream({ fast: true });
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
	// full: every feature on with the DB-backed key; full-static: the same gateway, static key
	const full = process.argv[3] === "full" || process.argv[3] === "full-static";
	const database = await freshDatabaseUrl();
	const port = await freePort();
	const gw = await spawnServer({
		cmd: [
			process.execPath,
			"--cpu-prof-md",
			`--cpu-prof-dir=${dir}`,
			"--cpu-prof-interval=100",
			"bench/profile-worker.ts",
		],
		env: {
			...gatewayEnvFor(mock.url),
			...(full ? { GATEWAY_CONFIG: configFile(mock.url, 3), GATEWAY_ADMIN_TOKEN: BENCH_ADMIN_TOKEN } : {}),
			PORT: String(port),
			LOG_LEVEL: "warn",
			BUN_CONFIG_MAX_HTTP_REQUESTS: "65535",
			GATEWAY_HTTP_WORKERS: process.env.GATEWAY_HTTP_WORKERS ?? "1",
			GATEWAY_DATA_DIR: "/tmp/interchange-profile",
			...(database ? { DATABASE_URL: database } : {}),
			...(otlpSink
				? { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${otlpSink.port}`, OTEL_TRACES_SAMPLER: "always_on" }
				: {}),
		},
		port,
		readyPath: "/readyz",
		readyTimeoutMs: 60_000,
		name: "gateway",
	});
	const key = process.argv[3] === "full" ? await createLimitedKey(gw) : "bench-key";
	const r = await runLoad({
		url: gw.url,
		path: scenario.path,
		body: scenario.body,
		headers: { authorization: `Bearer ${key}` },
		concurrency: 32,
		seconds: Number(process.env.BENCH_SECONDS ?? 8),
		stream: scenario.stream,
	});
	console.log(`${scenario.name}: ${r.rps.toFixed(0)} req/s`);
	await gw.stop();
	await mock.stop();
	otlpSink?.stop(true);
	if (database) await dropDatabase(database);
	console.log(`profile written under ${dir}`);
}

await runBench(main);
