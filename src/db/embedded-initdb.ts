/**
 * Child-process entry point: creates a new PGlite cluster in the directory given as the only
 * argument, then exits. startEmbeddedPostgres() runs it on the first start because PGlite's
 * initdb loads a second WebAssembly instance whose memory (about 400 MB) the process keeps for
 * good once touched; in a short-lived child that memory goes back to the system with it.
 */
import { PGlite } from "@electric-sql/pglite";
import { EMBEDDED_START_PARAMS } from "./embedded.ts";

const dir = process.argv[2];
if (!dir) {
	console.error("usage: bun src/db/embedded-initdb.ts <pglite data dir>");
	process.exit(2);
}
const db = await PGlite.create(dir, { startParams: EMBEDDED_START_PARAMS });
await db.close();
