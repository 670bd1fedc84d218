/**
 * The audit outage drill, run by hand on a machine whose Postgres we may stop (root, Debian
 * pg_ctlcluster): 3,000 requests at concurrency 20 (30% streamed) while Postgres is stopped
 * for 6 s in the middle, then 500 more followed at once by SIGTERM; then counts the rows.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test bun bench/acceptance/audit-outage.ts
 */
import { readdirSync } from "node:fs";
import OpenAI from "openai";
import postgres from "postgres";
import { startGatewayServer } from "../../test/support/gateway-server.ts";
import { startMockUpstream } from "../../test/support/mock-upstream.ts";

const KEY = "sk-outage";
const serverUrl = process.env.DATABASE_URL;
if (!serverUrl) throw new Error("set DATABASE_URL to the Postgres server this script may stop");
const cluster = readdirSync("/etc/postgresql")[0];
const pgctl = (action: "stop" | "start") =>
	Bun.spawnSync(["pg_ctlcluster", "--skip-systemctl-redirect", cluster, "main", action]).exitCode;

const mock = await startMockUpstream();
const gw = await startGatewayServer({
	workers: 2,
	env: {
		OPENAI_BASE_URL: `${mock.url}/v1`,
		OPENAI_API_KEY: "up",
		OPENAI_MODELS: "gpt-4o-mini",
		GATEWAY_API_KEYS: KEY,
	},
});
const client = new OpenAI({
	baseURL: `${gw.url}/v1`,
	apiKey: KEY,
	maxRetries: 0,
});

let failures = 0;
async function one(i: number): Promise<void> {
	try {
		if (i % 10 < 3) {
			const s = await client.chat.completions.create({
				model: "gpt-4o-mini",
				stream: true,
				messages: [{ role: "user", content: `s${i}` }],
			});
			for await (const _ of s) {
				// drain
			}
		} else {
			await client.chat.completions.create({
				model: "gpt-4o-mini",
				messages: [{ role: "user", content: `p${i}` }],
			});
		}
	} catch (e) {
		failures++;
		console.error("request failed", i, (e as Error).message);
	}
}
async function load(from: number, count: number, concurrency: number): Promise<void> {
	let next = from;
	await Promise.all(
		Array.from({ length: concurrency }, async () => {
			while (next < from + count) await one(next++);
		}),
	);
}

const t0 = performance.now();
const first = load(0, 3000, 20);
while (mock.requestCount < 1000) await Bun.sleep(10);
console.log("stopping Postgres for 6 s at request", mock.requestCount);
pgctl("stop");
await Bun.sleep(6_000);
pgctl("start");
console.log("Postgres back at request", mock.requestCount);
await first;
const last = load(3000, 500, 20);
while (mock.requestCount < 3500) await Bun.sleep(1);
gw.proc.kill("SIGTERM");
await last;
const code = await gw.proc.exited;
const elapsed = (performance.now() - t0) / 1000;

const sql = postgres(gw.databaseUrl as string, { max: 1, onnotice: () => {} });
const [row] = await sql`select count(*)::int as rows, count(distinct request_id)::int as distinct_ids,
	count(*) filter (where total_tokens > 0)::int as with_tokens from request_logs`;
await sql.end();
console.log(
	JSON.stringify({
		failures,
		exit_code: code,
		elapsed_s: Number(elapsed.toFixed(1)),
		...row,
	}),
);
await gw.cleanup();
await mock.stop();
process.exit(failures === 0 && row.rows === 3500 && row.distinct_ids === 3500 ? 0 : 1);
