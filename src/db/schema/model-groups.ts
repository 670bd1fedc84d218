import { integer, pgTable, text, timestamp } from "drizzle-orm/pg-core";

/** Model groups managed through the admin API (the config file's are not stored here). */
export const modelGroups = pgTable("model_groups", {
	name: text("name").primaryKey(),
	/** `provider/model` or bare model ids, in fallback order. */
	targets: text("targets").array().notNull(),
	/** ordered | weighted (src/config/model-group.ts). */
	strategy: text("strategy").notNull().default("ordered"),
	/** weighted only: one per target. */
	weights: integer("weights").array(),
	createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
	updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});
