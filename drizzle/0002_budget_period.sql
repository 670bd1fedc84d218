ALTER TABLE "api_keys" ADD COLUMN "budget_period" text DEFAULT 'total' NOT NULL;--> statement-breakpoint
ALTER TABLE "tenants" ADD COLUMN "budget_period" text DEFAULT 'total' NOT NULL;