CREATE TABLE "request_logs_dead_letter" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"request_id" text,
	"sqlstate" text,
	"reason" text NOT NULL,
	"line" text NOT NULL
);
--> statement-breakpoint
-- request_logs is partitioned (its DDL is hand-written, see 0001): the column is added by hand.
-- The CHECK keeps the ledger's vocabulary closed; a row outside it is dead-lettered, not stored.
ALTER TABLE "request_logs" ADD COLUMN "usage_source" text DEFAULT 'upstream' NOT NULL;--> statement-breakpoint
ALTER TABLE "request_logs" ADD CONSTRAINT "request_logs_usage_source_check" CHECK ("usage_source" IN ('upstream', 'estimated'));
