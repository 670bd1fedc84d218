CREATE TABLE "admin_audit" (
	"id" text PRIMARY KEY NOT NULL,
	"at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"actor" text NOT NULL,
	"actor_fingerprint" text,
	"action" text NOT NULL,
	"target_type" text NOT NULL,
	"target_id" text,
	"before" jsonb,
	"after" jsonb,
	"client_address" text,
	"request_id" text
);
--> statement-breakpoint
CREATE INDEX "admin_audit_at_idx" ON "admin_audit" USING btree ("at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "admin_audit_action_at_idx" ON "admin_audit" USING btree ("action","at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "admin_audit_target_at_idx" ON "admin_audit" USING btree ("target_type","target_id","at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "admin_audit_actor_at_idx" ON "admin_audit" USING btree ("actor","at" DESC NULLS LAST);