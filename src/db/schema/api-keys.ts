import { index, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { settingColumns } from "./subject-settings.ts";

/** Client keys. Only the SHA-256 of the key is stored; `prefix` is what admins see. */
export const apiKeys = pgTable(
	"api_keys",
	{
		id: text("id").primaryKey(),
		tenantId: text("tenant_id").notNull(),
		name: text("name"),
		prefix: text("prefix").notNull(),
		/** sha-256 hex of the full key. */
		keyHash: text("key_hash").notNull().unique(),
		/** Allowlist; null = every model. */
		models: text("models").array(),
		/** Limits (null = unlimited) and log_bodies: see config/limit-fields.ts. */
		...settingColumns("key"),
		expiresAt: timestamp("expires_at", { withTimezone: true }),
		revokedAt: timestamp("revoked_at", { withTimezone: true }),
		createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
		updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
	},
	(t) => [index("api_keys_tenant_idx").on(t.tenantId)],
);
