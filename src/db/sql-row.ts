import type { Column, Table } from "drizzle-orm";

/**
 * A table's row as a raw postgres.js query returns it. The code queries with postgres.js
 * tagged templates, not drizzle's query builder, so drizzle's `$inferSelect` does not fit: it is
 * keyed by the TypeScript property name and typed as drizzle decodes. Here the keys are the SQL
 * column names (snake_case) and the values what the driver gives: `bigint` and `numeric` arrive
 * as strings (exact), timestamps as Date, nullable columns may be null.
 */
export type SqlRow<T extends Table> = {
	[K in keyof T["_"]["columns"] as T["_"]["columns"][K]["_"]["name"]]: Decoded<T["_"]["columns"][K]>;
};

type Decoded<C extends Column> =
	| (C["_"]["columnType"] extends "PgBigInt53" | "PgBigInt64" | "PgNumeric" ? string : C["_"]["data"])
	| (C["_"]["notNull"] extends true ? never : null);
