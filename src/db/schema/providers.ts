import { boolean, integer, jsonb, pgTable, text, timestamp, unique } from "drizzle-orm/pg-core";

/** Providers managed through the admin API (config-file providers are not stored here). */
export const providers = pgTable("providers", {
	name: text("name").primaryKey(),
	/** Preset name (src/config/presets.ts). */
	type: text("type").notNull(),
	baseUrl: text("base_url").notNull(),
	models: text("models").array().notNull().default([]),
	strategy: text("strategy"),
	headers: jsonb("headers").$type<Record<string, string>>(),
	createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
	updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

export const providerAccounts = pgTable(
	"provider_accounts",
	{
		id: text("id").primaryKey(),
		provider: text("provider")
			.notNull()
			.references(() => providers.name, {
				onDelete: "cascade",
				onUpdate: "cascade",
			}),
		name: text("name").notNull(),
		/** AES-GCM ciphertext of the upstream key; plaintext never touches the database. */
		apiKeyEnc: text("api_key_enc").notNull(),
		baseUrl: text("base_url"),
		weight: integer("weight").notNull().default(1),
		maxConcurrency: integer("max_concurrency"),
		models: text("models").array(),
		enabled: boolean("enabled").notNull().default(true),
		createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
		updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
	},
	(t) => [unique("provider_accounts_provider_name_uq").on(t.provider, t.name)],
);

export type ProviderAccountRow = typeof providerAccounts.$inferSelect;
