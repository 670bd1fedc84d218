/**
 * `bun run bench:soak`: a steady open-loop rate for SOAK_SECONDS (600) against the gateway,
 * its RSS sampled every 10 s; at the end, RSS against the value after the first minute, and
 * the usage rows in Postgres against the requests sent (none may be lost).
 * Env: SOAK_SECONDS (600), SOAK_RATE (1000), DATABASE_URL (passed to the gateway).
 */
import { join } from "node:path";
import { dropDatabase, freshDatabaseUrl } from "../test/support/gateway-server.ts";
import { startMockUpstream } from "../test/support/mock-upstream.ts";
import { waitFor } from "../test/support/wait-for.ts";
import { gatewayEnvFor, runBench, startGateway } from "./gateway-process.ts";
import type { OpenLoopResult } from "./open-loop-worker.ts";
import { rssMb } from "./process-rss.ts";
import { plainChat } from "./scenarios.ts";

const SECONDS = Number(process.env.SOAK_SECONDS ?? 600);
const RATE = Number(process.env.SOAK_RATE ?? 1000);
const ADMIN = "soak-admin-token-0123456789";

async function rowsRecorded(url: string): Promise<number> {
	const res = await fetch(`${url}/admin/usage?group_by=model`, {
		headers: { authorization: `Bearer ${ADMIN}` },
	});
	const body = (await res.json()) as { data: { requests: number | string }[] };
	return body.data.reduce((s, r) => s + Number(r.requests), 0);
}

async function main(): Promise<number> {
	const mock = await startMockUpstream({ fast: true });
	// a database of its own, so the row count is this run's
	const db = await freshDatabaseUrl();
	const gw = await startGateway({
		...gatewayEnvFor(mock.url),
		GATEWAY_ADMIN_TOKEN: ADMIN,
		...(db ? { DATABASE_URL: db } : {}),
	});
	const samples: { t: number; rss: number }[] = [];
	const t0 = performance.now();
	const sampler = setInterval(
		() =>
			samples.push({
				t: Math.round((performance.now() - t0) / 1000),
				rss: rssMb(gw.pid),
			}),
		10_000,
	);
	try {
		const spec = {
			url: gw.url,
			path: plainChat.path,
			body: plainChat.body,
			headers: { authorization: "Bearer bench-key" },
			rate: RATE,
			seconds: SECONDS,
			warmupSeconds: 0,
		};
		const child = Bun.spawn([process.execPath, join(import.meta.dir, "open-loop-worker.ts"), JSON.stringify(spec)], {
			stdout: "pipe",
			stderr: "inherit",
		});
		const out = await new Response(child.stdout).text();
		await child.exited;
		const r = JSON.parse(out.trim().split("\n").at(-1) ?? "{}") as OpenLoopResult;
		const expected = r.completed + r.errors;
		let rows = 0;
		await waitFor(
			async () => {
				rows = await rowsRecorded(gw.url);
				return rows >= expected;
			},
			{ timeoutMs: 30_000, what: `${expected} usage rows` },
		).catch(() => {});
		// single samples catch GC peaks: compare the mean of the second minute with the mean of
		// the last one (both reported next to the raw samples)
		const mean = (xs: number[]) => (xs.length ? Math.round(xs.reduce((a, b) => a + b, 0) / xs.length) : 0);
		const end = samples.at(-1)?.t ?? 0;
		const afterFirstMinute =
			mean(samples.filter((s) => s.t >= 60 && s.t < 120).map((s) => s.rss)) || (samples[0]?.rss ?? 0);
		const last = mean(samples.filter((s) => s.t > end - 60).map((s) => s.rss));
		const drift = afterFirstMinute ? (last - afterFirstMinute) / afterFirstMinute : 0;
		console.log(`RSS samples (s:MB): ${samples.map((s) => `${s.t}:${s.rss}`).join(" ")}`);
		console.log(
			JSON.stringify({
				seconds: SECONDS,
				rate: RATE,
				sent: r.sent,
				completed: r.completed,
				errors: r.errors,
				p50_ms: r.p50,
				p99_ms: r.p99,
				rows_recorded: rows,
				rows_lost: expected - rows,
				rss_second_minute_mean_mb: afterFirstMinute,
				rss_last_minute_mean_mb: last,
				rss_drift: Math.round(drift * 1000) / 1000,
			}),
		);
		return rows === expected && Math.abs(drift) <= 0.1 ? 0 : 1;
	} finally {
		clearInterval(sampler);
		await gw.stop();
		await mock.stop();
		if (db) await dropDatabase(db);
	}
}

await runBench(main);
