import type { PriceConfig } from "./model-price.ts";

export type GatewayEnv = "dev" | "production";

export interface AccountConfig {
	name: string;
	api_key: string;
	base_url?: string;
	weight: number;
	max_concurrency: number;
	models?: string[];
}

export interface ProviderConfig {
	name: string;
	/** Preset name: openai, azure-openai, anthropic, deepseek, … (src/config/presets.ts). */
	type: string;
	base_url: string;
	models: string[];
	strategy?: RoutingStrategy;
	/** Extra headers sent upstream on every call (e.g. OpenRouter's HTTP-Referer). */
	headers?: Record<string, string>;
	/** azure-openai only. */
	api_version?: string;
	accounts: AccountConfig[];
}

export interface AliasConfig {
	from: string;
	to: string;
}

export interface GatewayConfig {
	env: GatewayEnv;
	server: {
		port: number;
		host: string;
		cors_origins: string[];
		/** 0 = one per CPU core. Resolved to a concrete number by the loader. */
		http_workers: number;
		max_body_bytes: number;
		drain_timeout_ms: number;
		keepalive_interval_ms: number;
	};
	database: {
		/** Absent = embedded Postgres (PGlite) under data_dir. */
		url?: string;
		data_dir: string;
		/** Days of request_logs kept (whole daily partitions are dropped); 0 = keep everything. */
		retention_days: number;
	};
	auth: {
		mode: "local" | "remote_introspection";
		static_keys: string[];
		admin_token?: string;
		introspection_url?: string;
		encryption_key?: string;
	};
	routing: {
		strategy: RoutingStrategy;
		max_account_switches: number;
		first_byte_timeout_ms: number;
		request_timeout_ms: number;
	};
	limits: {
		/** Reserved output per answer when neither the request nor the price catalog gives a cap. */
		default_max_output_tokens: number;
		/** Upper bound on the catalog's maximum output used for a request without a cap. */
		max_output_ceiling: number;
		/** Refuse (PLATFORM_MODEL_UNPRICED) a model with no price on a key or tenant with a budget. */
		refuse_unpriced_with_budget: boolean;
	};
	audit: {
		/** false drops usage rows (metrics still count them): for benchmarks only, never in production. */
		enabled: boolean;
		batch_size: number;
		flush_interval_ms: number;
		/** Rows held in memory while Postgres is down before spilling to the spool file. */
		max_queue: number;
	};
	log_level: string;
	providers: ProviderConfig[];
	aliases: AliasConfig[];
	prices: PriceConfig[];
}

/** How a provider spreads requests over its accounts (`routing.strategy`, per provider too). */
export const ROUTING_STRATEGIES = [
	"first_available",
	"round_robin",
	"random",
	"weighted",
	"latency",
	"least_busy",
] as const;

export type RoutingStrategy = (typeof ROUTING_STRATEGIES)[number];
