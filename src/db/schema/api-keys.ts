import { bigint, index, integer, numeric, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { BUDGET_PERIODS } from "../../config/budget-period.ts";
import { LOG_BODIES } from "../../config/logging-config.ts";

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
		rpm: integer("rpm"),
		tpm: integer("tpm"),
		maxConcurrency: integer("max_concurrency"),
		quotaDailyRequests: integer("quota_daily_requests"),
		quotaDailyTokens: bigint("quota_daily_tokens", { mode: "number" }),
		budgetUsd: numeric("budget_usd", { precision: 18, scale: 6 }),
		/** What budget_usd covers: one UTC day, ISO week, calendar month, or all time. */
		budgetPeriod: text("budget_period", { enum: BUDGET_PERIODS }).notNull().default("total"),
		/** Which of this key's requests keep their bodies; null = the tenant's setting, else `[logging] log_bodies`. */
		logBodies: text("log_bodies", { enum: LOG_BODIES }),
		expiresAt: timestamp("expires_at", { withTimezone: true }),
		revokedAt: timestamp("revoked_at", { withTimezone: true }),
		createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
		updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
	},
	(t) => [index("api_keys_tenant_idx").on(t.tenantId)],
);

export type ApiKeyRow = typeof apiKeys.$inferSelect;
