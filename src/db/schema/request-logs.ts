import { sql } from "drizzle-orm";
import {
	bigint,
	boolean,
	doublePrecision,
	index,
	integer,
	pgTable,
	text,
	timestamp,
	uniqueIndex,
} from "drizzle-orm/pg-core";

/**
 * One row per client request (UsageEvent). The real table is RANGE-partitioned by day on
 * `ts` with a DEFAULT partition; drizzle-kit cannot express that, so the DDL lives in a
 * custom migration (drizzle/0001_request_logs_partitioned.sql) and this object is only for
 * typed queries. It is deliberately left out of drizzle.config.ts's schema list.
 *
 * The unique key is (request_id, ts), not request_id alone, because a unique index on a
 * partitioned table must contain the partition key; ts is fixed per request and replays
 * carry the same ts, so inserts with ON CONFLICT DO NOTHING stay idempotent.
 */
export const requestLogs = pgTable(
	"request_logs",
	{
		ts: timestamp("ts", {
			withTimezone: true,
			mode: "date",
			precision: 3,
		}).notNull(),
		requestId: text("request_id").notNull(),
		/** The client's own x-request-id, when it sent one. */
		clientRequestId: text("client_request_id"),
		keyId: text("key_id"),
		tenantId: text("tenant_id"),
		endpoint: text("endpoint").notNull(),
		requestedModel: text("requested_model"),
		provider: text("provider"),
		account: text("account"),
		model: text("model"),
		stream: boolean("stream").notNull().default(false),
		status: integer("status").notNull(),
		errorCode: text("error_code"),
		attempts: integer("attempts").notNull().default(1),
		latencyMs: integer("latency_ms").notNull(),
		ttftMs: integer("ttft_ms"),
		promptTokens: bigint("prompt_tokens", { mode: "number" }).notNull().default(0),
		completionTokens: bigint("completion_tokens", { mode: "number" }).notNull().default(0),
		cachedTokens: bigint("cached_tokens", { mode: "number" }).notNull().default(0),
		cacheWriteTokens: bigint("cache_write_tokens", { mode: "number" }).notNull().default(0),
		reasoningTokens: bigint("reasoning_tokens", { mode: "number" }).notNull().default(0),
		totalTokens: bigint("total_tokens", { mode: "number" }).notNull().default(0),
		// double: sums over millions of rows stay exact enough for USD at 1e-9 and avoid
		// numeric's string round trip in postgres.js.
		// null: the model had no price, so the cost is unknown (the tokens are still recorded)
		costUsd: doublePrecision("cost_usd").default(0),
		incomplete: boolean("incomplete").notNull().default(false),
		userAgent: text("user_agent"),
		/** `upstream` (the provider's report) or `estimated` (counted by the gateway: usage never came). */
		usageSource: text("usage_source", { enum: ["upstream", "estimated"] })
			.notNull()
			.default("upstream"),
	},
	(t) => [
		uniqueIndex("request_logs_request_id_ts_uq").on(t.requestId, t.ts),
		index("request_logs_ts_idx").on(t.ts.desc()),
		index("request_logs_key_ts_idx").on(t.keyId, t.ts.desc()),
		index("request_logs_model_ts_idx").on(t.model, t.ts.desc()),
		index("request_logs_status_idx").on(t.status).where(sql`status >= 400`),
	],
);
