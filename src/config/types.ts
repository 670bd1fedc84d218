import type { RoutingStrategy } from "../routing/types.ts";

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
	/** Preset name: openai, azure-openai, anthropic, deepseek, … (src/providers/presets.ts). */
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

/** USD per million tokens. */
export interface PriceConfig {
	model: string;
	input: number;
	output: number;
	cached_input?: number;
	cache_write?: number;
}

export interface GatewayConfig {
	env: GatewayEnv;
	server: {
		port: number;
		host: string;
		cors_origins: string[];
		/** 0 = one per CPU core (at most 2 with the embedded database). Resolved to a concrete number by the loader. */
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
