import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import { EMBEDDED_URL_MARKER } from "./client.ts";

export interface EmbeddedPostgres {
	/** postgres:// URL carrying the embedded marker; open it with createDb(). */
	url: string;
	stop(): Promise<void>;
}

/**
 * PGlite is single-session: every socket connection is multiplexed onto one backend, so
 * the server must accept as many sockets as all pools together open (HTTP workers × max
 * plus the audit writer and admin). 64 leaves headroom without costing anything idle.
 */
const MAX_SOCKETS = 64;

/**
 * PGlite's server settings. Postgres' default shared_buffers (128 MB) is zeroed at start, so
 * the whole buffer pool is resident whether used or not. The gateway's database work is small
 * lookups and batched appends to request_logs, whose working set fits in 16 MB; the operating
 * system's page cache holds the rest of the data dir.
 */
export const EMBEDDED_START_PARAMS = [...PGlite.defaultStartParams, "-c", "shared_buffers=16MB"];

const INITDB_SCRIPT = fileURLToPath(new URL("./embedded-initdb.ts", import.meta.url));

/** Creates the cluster in a child process (see embedded-initdb.ts for why). */
async function initCluster(dir: string): Promise<void> {
	const child = Bun.spawn([process.execPath, INITDB_SCRIPT, dir], { stdout: "ignore", stderr: "pipe" });
	const [code, stderr] = await Promise.all([child.exited, new Response(child.stderr).text()]);
	if (code !== 0) throw new Error(`embedded Postgres initdb in ${dir} failed (exit ${code}): ${stderr.slice(-2_000)}`);
}

/**
 * Starts PGlite (data under `<dataDir>/pglite`, persisted across restarts) behind a
 * Postgres wire-protocol socket on 127.0.0.1 at a free port, so the rest of the code uses
 * the same postgres.js driver as with a real server. LISTEN/NOTIFY is not delivered
 * through the socket server.
 */
export async function startEmbeddedPostgres(dataDir: string): Promise<EmbeddedPostgres> {
	const dir = join(dataDir, "pglite");
	mkdirSync(dir, { recursive: true });
	if (!existsSync(join(dir, "PG_VERSION"))) await initCluster(dir);
	const db = await PGlite.create(dir, { startParams: EMBEDDED_START_PARAMS });
	const server = new PGLiteSocketServer({
		db,
		host: "127.0.0.1",
		port: 0,
		maxConnections: MAX_SOCKETS,
	});
	await server.start();
	const conn = server.getServerConn();
	let stopped = false;
	return {
		url: `postgres://postgres@${conn}/postgres?${EMBEDDED_URL_MARKER}`,
		async stop() {
			if (stopped) return;
			stopped = true;
			await server.stop();
			await db.close();
		},
	};
}
