import { afterAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { type GatewayServer, startGatewayServer } from "../support/gateway-server.ts";

/** Resident memory of one process (all its threads), in MB. */
function rssMb(pid: number): number {
	const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
	if (!m) throw new Error(`no VmRSS for pid ${pid}`);
	return Number(m[1]) / 1024;
}

const servers: GatewayServer[] = [];
afterAll(async () => {
	for (const s of servers) await s.cleanup();
});

// The quick start: no DATABASE_URL, so the embedded PGlite under a fresh data dir (its first
// start runs initdb, the costly case), with the default worker count of that mode.
test("the embedded-database quick start is ready with at most 300 MB resident, first start and restart", async () => {
	const first = await startGatewayServer({ databaseUrl: null, workers: 2, readyTimeoutMs: 120_000 });
	servers.push(first);
	const firstMb = rssMb(first.proc.pid);
	expect(await first.stop()).toBe(0);

	const again = await startGatewayServer({
		databaseUrl: null,
		workers: 2,
		dataDir: first.dataDir,
		readyTimeoutMs: 120_000,
	});
	servers.push(again);
	const againMb = rssMb(again.proc.pid);
	expect(firstMb).toBeLessThanOrEqual(300);
	expect(againMb).toBeLessThanOrEqual(300);
	expect(again.output()).toContain("embedded Postgres (PGlite) started");
}, 240_000);
