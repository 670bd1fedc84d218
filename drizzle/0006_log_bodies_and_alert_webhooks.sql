CREATE TABLE "alert_webhooks" (
	"id" text PRIMARY KEY NOT NULL,
	"url" text NOT NULL,
	"events" text[],
	"format" text DEFAULT 'json' NOT NULL,
	"secret" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "request_bodies" (
	"request_id" text PRIMARY KEY NOT NULL,
	"ts" timestamp (3) with time zone NOT NULL,
	"key_id" text,
	"request_body" text,
	"response_body" text,
	"request_truncated" boolean DEFAULT false NOT NULL,
	"response_truncated" boolean DEFAULT false NOT NULL,
	"stream" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "log_bodies" text;--> statement-breakpoint
ALTER TABLE "tenants" ADD COLUMN "log_bodies" text;--> statement-breakpoint
CREATE INDEX "request_bodies_ts_idx" ON "request_bodies" USING btree ("ts");