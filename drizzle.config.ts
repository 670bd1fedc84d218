import { defineConfig } from "drizzle-kit";

export default defineConfig({
	dialect: "postgresql",
	// request-logs.ts is left out on purpose: that table is partitioned by day, which
	// drizzle-kit cannot express, so its DDL is the custom migration
	// drizzle/0001_request_logs_partitioned.sql. Change both together.
	schema: [
		"./src/db/schema/alert-webhooks.ts",
		"./src/db/schema/admin-audit.ts",
		"./src/db/schema/admin-auth.ts",
		"./src/db/schema/api-keys.ts",
		"./src/db/schema/model-groups.ts",
		"./src/db/schema/model-prices.ts",
		"./src/db/schema/providers.ts",
		"./src/db/schema/request-bodies.ts",
		"./src/db/schema/request-logs-dead-letter.ts",
		"./src/db/schema/tenants.ts",
	],
	out: "./drizzle",
	dbCredentials: {
		url: process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test",
	},
});
