export * from "./admin-auth.ts";
export * from "./api-keys.ts";
export * from "./model-prices.ts";
export * from "./providers.ts";
export * from "./request-logs.ts";
export * from "./request-logs-dead-letter.ts";
export * from "./tenants.ts";
