import { drizzle, type PostgresJsDatabase } from "drizzle-orm/postgres-js";
import postgres, { type Options, type Sql } from "postgres";
import * as schema from "./schema/index.ts";

/**
 * Query-string marker that startEmbeddedPostgres() puts on its URL. createDb() strips it
 * (postgres.js would otherwise send it as a startup parameter) and switches to the
 * options PGlite needs.
 */
export const EMBEDDED_URL_MARKER = "ix_embedded=pglite";

export type Database = PostgresJsDatabase<typeof schema>;

export interface Db {
	sql: Sql;
	db: Database;
	close(): Promise<void>;
}

export interface CreateDbOptions {
	/** Pool size; keep it small, every HTTP worker opens its own pool. */
	max?: number;
	/** Seconds; fail fast so the audit writer can spool instead of hanging. */
	connectTimeout?: number;
}

const MARKER_PARAM = "ix_embedded";

export const isEmbeddedUrl = (url: string): boolean => new URL(url).searchParams.get(MARKER_PARAM) === "pglite";

/** Removes the embedded marker so postgres.js sees a plain URL. */
export function stripEmbeddedMarker(url: string): string {
	const u = new URL(url);
	if (!u.searchParams.has(MARKER_PARAM)) return url;
	u.searchParams.delete(MARKER_PARAM);
	return u.toString();
}

/** postgres.js options for a URL: PGlite-specific ones when the URL is the embedded one. */
export function postgresOptions(url: string, opts: CreateDbOptions = {}): Options<Record<string, never>> {
	const embedded = isEmbeddedUrl(url);
	return {
		max: opts.max ?? 4,
		connect_timeout: opts.connectTimeout ?? 5,
		onnotice: () => {},
		// Every socket to PGlite shares its one backend session. Keep prepare = true: each
		// postgres.js connection names its statements with a random prefix, so they never
		// collide, whereas prepare = false reuses the unnamed statement across a two-step
		// Parse/Describe then Bind round trip and another socket can overwrite it in between
		// ("bind message supplies 1 parameters, but prepared statement "" requires 0").
		prepare: true,
		// Named statements outlive their socket in PGlite's shared session, so reconnecting
		// leaks them: with the embedded server never recycle idle or old connections.
		idle_timeout: embedded ? 0 : 30,
		max_lifetime: embedded ? 0 : 60 * 30,
	};
}

export function createDb(url: string, opts: CreateDbOptions = {}): Db {
	const sql = postgres(stripEmbeddedMarker(url), postgresOptions(url, opts));
	const db = drizzle(sql, { schema });
	return {
		sql,
		db,
		close: () => sql.end({ timeout: 5 }),
	};
}
