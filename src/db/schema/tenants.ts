import { pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { settingColumns } from "./subject-settings.ts";

/** A customer; keys belong to one. Null limits mean unlimited. */
export const tenants = pgTable("tenants", {
	id: text("id").primaryKey(),
	name: text("name").notNull(),
	/** Limits (null = unlimited) and log_bodies for all its keys together: see config/limit-fields.ts. */
	...settingColumns("tenant"),
	createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});
