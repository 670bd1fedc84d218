/**
 * Runs one HTTP worker's code on the main thread, so Bun's CPU profiler (which samples the
 * main thread only) sees the request path. Same config, database, shared tables and audit
 * writer as `src/index.ts`; used by bench/profile.ts, not by users.
 */
import { loadConfig } from "../src/config/load-config.ts";
import { runMigrations } from "../src/db/migrate.ts";
import { LimitTable } from "../src/limits/limit-table.ts";
import { AccountStateTable } from "../src/routing/account-state-table.ts";
import { DEFAULT_MAX_LANES } from "../src/routing/model-lanes.ts";
import type { FromHttpWorker, ToHttpWorker } from "../src/server/worker-protocol.ts";
import { AuditWriterClient } from "../src/usage/audit-writer-client.ts";

const config = await loadConfig();
const databaseUrl = config.database.url;
if (!databaseUrl) throw new Error("profile-worker: DATABASE_URL is required");
await runMigrations(databaseUrl);
const audit = new AuditWriterClient({ databaseUrl, dataDir: config.database.data_dir });
await audit.start();
const accountTable = AccountStateTable.create();
const limitTable = new LimitTable({ onFull: () => {} });

const g = globalThis as unknown as {
	postMessage: (m: FromHttpWorker) => void;
	onmessage: ((e: { data: ToHttpWorker }) => void) | null;
};
g.postMessage = (msg) => {
	if (msg.type === "usage") audit.writeLines(msg.lines, msg.count);
	else if (msg.type === "listening") g.onmessage?.({ data: { type: "ready" } });
	else if (msg.type === "fatal") {
		console.error(msg.message);
		process.exit(1);
	} else if (msg.type === "drained") {
		void audit.flush(5_000).then(() => process.exit(0));
	}
};
await import("../src/server/http-worker.ts");
g.onmessage?.({
	data: {
		type: "init",
		index: 0,
		config,
		databaseUrl,
		accountTable: accountTable.buffer,
		modelLaneTable: AccountStateTable.create(DEFAULT_MAX_LANES).buffer,
		limitTable: limitTable.buffer,
		reusePort: false,
		version: "profile",
	},
});
process.on("SIGTERM", () => g.onmessage?.({ data: { type: "drain", timeoutMs: 2_000 } }));
