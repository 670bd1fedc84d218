import { bigint, integer, numeric, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { BUDGET_PERIODS } from "../../config/budget-period.ts";
import { LOG_BODIES } from "../../config/logging-config.ts";

/** A customer; keys belong to one. Null limits mean unlimited. */
export const tenants = pgTable("tenants", {
	id: text("id").primaryKey(),
	name: text("name").notNull(),
	rpm: integer("rpm"),
	tpm: integer("tpm"),
	quotaDailyRequests: integer("quota_daily_requests"),
	quotaDailyTokens: bigint("quota_daily_tokens", { mode: "number" }),
	budgetUsd: numeric("budget_usd", { precision: 18, scale: 6 }),
	/** What budget_usd covers: one UTC day, ISO week, calendar month, or all time. */
	budgetPeriod: text("budget_period", { enum: BUDGET_PERIODS }).notNull().default("total"),
	/** Which of its keys' requests keep their bodies (a key's own setting wins); null = `[logging] log_bodies`. */
	logBodies: text("log_bodies", { enum: LOG_BODIES }),
	createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});

export type TenantRow = typeof tenants.$inferSelect;
