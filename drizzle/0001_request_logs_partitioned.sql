-- request_logs is partitioned by UTC day on ts (drizzle-kit cannot express partitioning;
-- the typed table object is src/db/schema/request-logs.ts, keep both in step).
-- Daily partitions are created ahead by src/db/partitions.ts (at startup and daily) and
-- old ones are dropped whole by its retention function: no DELETE, no bloat.
CREATE TABLE "request_logs" (
	"ts" timestamp(3) with time zone NOT NULL,
	"request_id" text NOT NULL,
	"client_request_id" text,
	"key_id" text,
	"tenant_id" text,
	"endpoint" text NOT NULL,
	"requested_model" text,
	"provider" text,
	"account" text,
	"model" text,
	"stream" boolean DEFAULT false NOT NULL,
	"status" integer NOT NULL,
	"error_code" text,
	"attempts" integer DEFAULT 1 NOT NULL,
	"latency_ms" integer NOT NULL,
	"ttft_ms" integer,
	"prompt_tokens" bigint DEFAULT 0 NOT NULL,
	"completion_tokens" bigint DEFAULT 0 NOT NULL,
	"cached_tokens" bigint DEFAULT 0 NOT NULL,
	"cache_write_tokens" bigint DEFAULT 0 NOT NULL,
	"reasoning_tokens" bigint DEFAULT 0 NOT NULL,
	"total_tokens" bigint DEFAULT 0 NOT NULL,
	"cost_usd" double precision DEFAULT 0 NOT NULL,
	"incomplete" boolean DEFAULT false NOT NULL,
	"user_agent" text
) PARTITION BY RANGE ("ts");
--> statement-breakpoint
-- Catches rows outside every daily partition (clock skew, a missed daily job) so an
-- insert never fails; partitions.ts moves such rows out when it creates their day.
CREATE TABLE "request_logs_default" PARTITION OF "request_logs" DEFAULT;
--> statement-breakpoint
-- Must include the partition key; (request_id, ts) is what ON CONFLICT targets.
CREATE UNIQUE INDEX "request_logs_request_id_ts_uq" ON "request_logs" ("request_id", "ts");
--> statement-breakpoint
CREATE INDEX "request_logs_ts_idx" ON "request_logs" ("ts" DESC);
--> statement-breakpoint
CREATE INDEX "request_logs_key_ts_idx" ON "request_logs" ("key_id", "ts" DESC);
--> statement-breakpoint
CREATE INDEX "request_logs_model_ts_idx" ON "request_logs" ("model", "ts" DESC);
--> statement-breakpoint
-- Partial: the admin filter is almost always "errors", a small fraction of rows.
CREATE INDEX "request_logs_status_idx" ON "request_logs" ("status") WHERE "status" >= 400;
