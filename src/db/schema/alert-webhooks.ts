import { pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { ALERT_FORMATS } from "../../config/alerts-config.ts";

/** Alert webhooks added through the admin API (those of the TOML file are not stored). */
export const alertWebhooks = pgTable("alert_webhooks", {
	id: text("id").primaryKey(),
	url: text("url").notNull(),
	/** Null = every event. */
	events: text("events").array(),
	format: text("format", { enum: ALERT_FORMATS }).notNull().default("json"),
	/** HMAC signing secret, sealed with the gateway's encryption key; null = unsigned. */
	secret: text("secret"),
	createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
	updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});
