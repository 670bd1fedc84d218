import { fileURLToPath } from "node:url";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import { createDb } from "./client.ts";
import { ensureRequestLogPartitions } from "./partitions.ts";

/** Resolved from this file, so migrations are found whatever the working directory. */
export const MIGRATIONS_FOLDER = fileURLToPath(new URL("../../drizzle", import.meta.url));

/** Serialises migrations between processes starting at once against one Postgres. */
const MIGRATION_LOCK_KEY = 7_263_540_001;

/**
 * Applies drizzle/ migrations, then makes sure the request_logs daily partitions exist.
 * Run once by the supervisor (main thread) before workers start, never per worker.
 */
export async function runMigrations(url: string): Promise<void> {
	// One connection: the session-level advisory lock and the migration run on the same
	// backend, so a second process blocks here until the first has finished.
	const { sql, db, close } = createDb(url, { max: 1 });
	try {
		await sql`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
		try {
			await migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });
			await ensureRequestLogPartitions(sql);
		} finally {
			await sql`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
		}
	} finally {
		await close();
	}
}
