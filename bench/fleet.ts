/**
 * `bun run bench:fleet`: a fleet of 3 gateway instances on one Postgres (DATABASE_URL, else the
 * machine's) and a Redis this bench starts, against the in-process mock upstream.
 *
 * 1. Throughput, shared limits against local limits: two fleets of 3 (one with `[redis]`, one
 *    without), each serving a virtual key with every limit set (too high to refuse), driven by
 *    3 load processes at once (one per instance), in rotating rounds. The ratio is the median of
 *    per-round ratios of the fleets' summed req/s.
 * 2. Overshoot: keys with an RPM, a daily request quota and a dollar budget, hit by bursts
 *    spread over the instances; admitted against the limit, for both fleets.
 *
 * Env: BENCH_SECONDS (5), BENCH_WARMUP_SECONDS (2), BENCH_ROUNDS (3), BENCH_CONCURRENCY (48, in all).
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { startMockUpstream } from "../test/support/mock-upstream.ts";
import { startRedis } from "../test/support/redis-server.ts";
import { BENCH_ADMIN_TOKEN, runBench, type ServerProcess, startGateway } from "./gateway-process.ts";
import { runLoad } from "./load.ts";
import { perRoundRatio } from "./report.ts";

const ROUNDS = Number(process.env.BENCH_ROUNDS) || 3;
const SECONDS = Number(process.env.BENCH_SECONDS) || 5;
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY) || 48;
const POSTGRES = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const INSTANCES = 3;

const CHAT = { model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }], max_tokens: 5 };

const databases: string[] = [];

async function database(): Promise<string> {
	const name = `ix_bench_fleet_${crypto.randomUUID().replaceAll("-", "").slice(0, 10)}`;
	const admin = postgres(POSTGRES, { max: 1, onnotice: () => {} });
	await admin.unsafe(`create database "${name}"`);
	await admin.end();
	const u = new URL(POSTGRES);
	u.pathname = `/${name}`;
	databases.push(name);
	return u.toString();
}

async function fleet(mockUrl: string, redisUrl: string | null): Promise<ServerProcess[]> {
	const dir = mkdtempSync(join(tmpdir(), "interchange-bench-fleet-"));
	const config = join(dir, "gateway.toml");
	writeFileSync(
		config,
		`${redisUrl ? `[redis]\nurl = "${redisUrl}"\nkey_prefix = "bench-${crypto.randomUUID().slice(0, 6)}:"\n\n` : ""}[[providers]]
name = "openai"
type = "openai"
base_url = "${mockUrl}/v1"
models = ["gpt-4o-mini"]
api_key = "bench"
`,
	);
	const databaseUrl = await database();
	const out: ServerProcess[] = [];
	for (let i = 0; i < INSTANCES; i++) {
		out.push(
			await startGateway({
				DATABASE_URL: databaseUrl,
				GATEWAY_CONFIG: config,
				GATEWAY_ADMIN_TOKEN: BENCH_ADMIN_TOKEN,
				GATEWAY_HTTP_WORKERS: "1",
			}),
		);
	}
	return out;
}

async function key(gw: ServerProcess, limits: Record<string, unknown>): Promise<string> {
	const res = await fetch(`${gw.url}/admin/keys`, {
		method: "POST",
		headers: { authorization: `Bearer ${BENCH_ADMIN_TOKEN}`, "content-type": "application/json" },
		body: JSON.stringify({ tenant_id: "bench", ...limits }),
	});
	if (res.status !== 201) throw new Error(`POST /admin/keys → ${res.status} ${await res.text()}`);
	return ((await res.json()) as { key: string }).key;
}

/** Every instance loaded at once, by its own load process: the fleet's summed req/s. */
async function fleetRps(gws: ServerProcess[], apiKey: string): Promise<{ rps: number; errors: number }> {
	const results = await Promise.all(
		gws.map((gw) =>
			runLoad({
				url: gw.url,
				path: "/v1/chat/completions",
				body: CHAT,
				headers: { authorization: `Bearer ${apiKey}` },
				concurrency: Math.max(1, Math.round(CONCURRENCY / gws.length)),
				seconds: SECONDS,
			}),
		),
	);
	return { rps: results.reduce((a, r) => a + r.rps, 0), errors: results.reduce((a, r) => a + r.errors, 0) };
}

/** `n` requests at once over the instances; how many were admitted. */
async function admitted(gws: ServerProcess[], apiKey: string, n: number): Promise<number> {
	const statuses = await Promise.all(
		Array.from({ length: n }, (_, i) =>
			fetch(`${gws[i % gws.length]?.url}/v1/chat/completions`, {
				method: "POST",
				headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
				body: JSON.stringify(CHAT),
			}).then(async (r) => {
				await r.arrayBuffer();
				return r.status;
			}),
		),
	);
	return statuses.filter((s) => s === 200).length;
}

await runBench(async () => {
	const mock = await startMockUpstream({ fast: true });
	const redis = await startRedis();
	console.log(
		`fleet bench: ${INSTANCES} instances × 1 HTTP worker per fleet, Postgres ${new URL(POSTGRES).host}, Redis ${redis.url}`,
	);
	const local = await fleet(mock.url, null);
	const shared = await fleet(mock.url, redis.url);
	const every = {
		rpm: 100_000_000,
		tpm: 1_000_000_000,
		max_concurrency: 10_000,
		quota_daily_requests: 1_000_000_000,
		quota_daily_tokens: 100_000_000_000,
		budget_usd: 1_000_000,
	};
	const localKey = await key(local[0] as ServerProcess, every);
	const sharedKey = await key(shared[0] as ServerProcess, every);

	const localRps: number[] = [];
	const sharedRps: number[] = [];
	for (let round = 1; round <= ROUNDS; round++) {
		// alternate which fleet goes first, so the box's drift does not favour one
		const order = round % 2 ? (["local", "shared"] as const) : (["shared", "local"] as const);
		for (const which of order) {
			const r = await fleetRps(which === "local" ? local : shared, which === "local" ? localKey : sharedKey);
			(which === "local" ? localRps : sharedRps).push(r.rps);
			console.log(`  round ${round}: ${which} limits: ${Math.round(r.rps)} req/s, errors ${r.errors}`);
		}
	}
	const ratio = perRoundRatio(sharedRps, localRps);
	const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
	console.log("\nthroughput (3 instances, every limit set on the key, chat plain):");
	console.log(`  local limits  ${Math.round(median(localRps))} req/s (median round)`);
	console.log(`  shared limits ${Math.round(median(sharedRps))} req/s (median round)`);
	if (ratio) {
		const r3 = (n: number) => n.toFixed(3);
		console.log(`  shared / local ×${r3(ratio.median)} (rounds ×${r3(ratio.min)}–×${r3(ratio.max)})`);
	}

	console.log("\novershoot (bursts of 600 requests spread over the 3 instances):");
	const cases: { what: string; limits: Record<string, unknown>; limit: number }[] = [
		{ what: "rpm = 100", limits: { rpm: 100 }, limit: 100 },
		{ what: "quota_daily_requests = 200", limits: { quota_daily_requests: 200 }, limit: 200 },
	];
	for (const c of cases) {
		const l = await admitted(local, await key(local[0] as ServerProcess, c.limits), 600);
		const s = await admitted(shared, await key(shared[0] as ServerProcess, c.limits), 600);
		console.log(
			`  ${c.what.padEnd(28)} local limits: ${l} admitted (+${Math.max(0, l - c.limit)}); shared: ${s} admitted (+${Math.max(0, s - c.limit)})`,
		);
	}
	for (const gw of [...local, ...shared]) await gw.stop();
	await redis.stop();
	await mock.stop();
	const admin = postgres(POSTGRES, { max: 1, onnotice: () => {} });
	for (const name of databases) await admin.unsafe(`drop database if exists "${name}" with (force)`).catch(() => {});
	await admin.end();
});
