import { mkdirSync } from "node:fs";
import { join } from "node:path";
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
 * Starts PGlite (data under `<dataDir>/pglite`, persisted across restarts) behind a
 * Postgres wire-protocol socket on 127.0.0.1 at a free port, so the rest of the code uses
 * the same postgres.js driver as with a real server. LISTEN/NOTIFY is not delivered
 * through the socket server.
 */
export async function startEmbeddedPostgres(dataDir: string): Promise<EmbeddedPostgres> {
	const dir = join(dataDir, "pglite");
	mkdirSync(dir, { recursive: true });
	const db = await PGlite.create(dir);
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
