import { boolean, index, pgTable, text, timestamp } from "drizzle-orm/pg-core";

/**
 * Request and response bodies of the requests whose key or tenant logs them (`log_bodies`),
 * redacted and capped. Apart from request_logs on purpose: bodies are large and optional, and
 * usage rows must never wait on them. Retention deletes by `ts` (`[logging] body_retention_days`).
 */
export const requestBodies = pgTable(
	"request_bodies",
	{
		requestId: text("request_id").primaryKey(),
		ts: timestamp("ts", { withTimezone: true, mode: "date", precision: 3 }).notNull(),
		keyId: text("key_id"),
		/** As received (JSON text), redacted; null for uploads (multipart). */
		requestBody: text("request_body"),
		/** As answered; a stream's is its reassembled text and tool calls (JSON). Null when nothing came. */
		responseBody: text("response_body"),
		requestTruncated: boolean("request_truncated").notNull().default(false),
		responseTruncated: boolean("response_truncated").notNull().default(false),
		/** True when `response_body` was reassembled from a stream's events. */
		stream: boolean("stream").notNull().default(false),
	},
	(t) => [index("request_bodies_ts_idx").on(t.ts)],
);
