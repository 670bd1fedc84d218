import { afterAll, beforeAll } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { createDb, type Db } from "../../src/db/client.ts";
import { startEmbeddedPostgres } from "../../src/db/embedded.ts";
import { runMigrations } from "../../src/db/migrate.ts";

export interface TestDatabase {
	/** Migrated database URL (embedded ones carry the marker; open with createDb). */
	url: string;
	/** Set for the embedded database: its data dir root (for restart tests). */
	dataDir?: string;
	cleanup(): Promise<void>;
}

/**
 * With DATABASE_URL: a fresh `ix_test_<random>` database on that server, dropped in
 * cleanup. Without: embedded PGlite in a temp dir. Migrations applied either way.
 */
export async function getTestDatabase(): Promise<TestDatabase> {
	const serverUrl = process.env.DATABASE_URL;
	if (serverUrl) {
		const name = `ix_test_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
		const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
		await admin.unsafe(`create database "${name}"`);
		const u = new URL(serverUrl);
		u.pathname = `/${name}`;
		const url = u.toString();
		await runMigrations(url);
		return {
			url,
			async cleanup() {
				await admin.unsafe(`drop database if exists "${name}" with (force)`);
				await admin.end();
			},
		};
	}
	const dataDir = mkdtempSync(join(tmpdir(), "ix-pglite-"));
	const pg = await startEmbeddedPostgres(dataDir);
	await runMigrations(pg.url);
	return {
		url: pg.url,
		dataDir,
		async cleanup() {
			await pg.stop();
			rmSync(dataDir, { recursive: true, force: true });
		},
	};
}

/** What useTestDatabase gives a test file: set before the file's first test runs. */
export interface TestDb {
	tdb: TestDatabase;
	/** A two-connection client on it. */
	db: Db;
}

/**
 * The setup every test file that needs Postgres shares: a fresh migrated database (see
 * getTestDatabase) and a client, opened before the file's tests and closed after them.
 * Call at the top level of the file; hooks the file adds itself run after this one's.
 */
export function useTestDatabase(): TestDb {
	const t = {} as TestDb;
	beforeAll(async () => {
		t.tdb = await getTestDatabase();
		t.db = createDb(t.tdb.url, { max: 2 });
	}, 30_000);
	afterAll(async () => {
		await t.db?.close();
		await t.tdb?.cleanup();
	}, 30_000);
	return t;
}
