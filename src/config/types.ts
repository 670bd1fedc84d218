/** `staging` follows production's rules (everything but `dev` does). */
export type GatewayEnv = "dev" | "staging" | "production";

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
		/** 0 = one per CPU core. Resolved to a concrete number by the loader. */
		http_workers: number;
		max_body_bytes: number;
		drain_timeout_ms: number;
		keepalive_interval_ms: number;
		/** Serve `GET /health` (the seeds' liveness route) beside /healthz. */
		health_route: boolean;
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
		/** Requests per minute shared by every static key (0 = unlimited). */
		static_keys_rpm: number;
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

/** How a provider spreads requests over its accounts (`routing.strategy`, per provider too). */
export const ROUTING_STRATEGIES = [
	"first_available",
	"round_robin",
	"random",
	"weighted",
	"latency",
	"least_busy",
	"availability",
] as const;

export type RoutingStrategy = (typeof ROUTING_STRATEGIES)[number];
