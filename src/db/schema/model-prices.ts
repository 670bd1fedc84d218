import { doublePrecision, pgTable, text, timestamp } from "drizzle-orm/pg-core";

/** USD per million tokens; rows here override `[[prices]]` from the config file. */
export const modelPrices = pgTable("model_prices", {
	model: text("model").primaryKey(),
	inputPerMtok: doublePrecision("input_per_mtok").notNull(),
	outputPerMtok: doublePrecision("output_per_mtok").notNull(),
	/** Null = billed at the input price. */
	cachedInputPerMtok: doublePrecision("cached_input_per_mtok"),
	/** Null = billed at the input price. */
	cacheWritePerMtok: doublePrecision("cache_write_per_mtok"),
	updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});
