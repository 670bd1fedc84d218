import { bigserial, pgTable, text, timestamp } from "drizzle-orm/pg-core";

/**
 * Usage rows Postgres refused for their data (SQLSTATE class 22 or 23), set aside by the audit
 * writer so the rest of their batch lands and the writer never retries them forever. `line` is
 * the row as the writer held it (a COPY line, or a spooled JSON event), for inspection and a
 * manual fix-and-replay.
 */
export const requestLogsDeadLetter = pgTable("request_logs_dead_letter", {
	id: bigserial("id", { mode: "number" }).primaryKey(),
	at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
	requestId: text("request_id"),
	/** Postgres' SQLSTATE and message. */
	sqlstate: text("sqlstate"),
	reason: text("reason").notNull(),
	line: text("line").notNull(),
});
