import type { AlertsPolicy, AlertWebhookConfig } from "./alerts-config.ts";
import type { LoggingConfig } from "./logging-config.ts";
import type { ModelGroupConfig } from "./model-group.ts";
import type { PriceConfig } from "./model-price.ts";
import type { TelemetryConfig } from "./telemetry-config.ts";

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
		/** A data-plane request must have sent its whole body this long after arriving, or gets 408. */
		body_timeout_ms: number;
		/** Serve `GET /health` (the seeds' liveness route) beside /healthz. */
		health_route: boolean;
		/** A proxy in front sets x-forwarded-for: the admin audit trail takes the client address from it. */
		trust_proxy: boolean;
	};
	database: {
		/** Absent = embedded Postgres (PGlite) under data_dir. */
		url?: string;
		data_dir: string;
		/** Days of request_logs kept (whole daily partitions are dropped); 0 = keep everything. */
		retention_days: number;
	};
	/** Shared state of a fleet of instances; absent url = every limit is per instance. */
	redis: {
		url?: string;
		/** Prefix of every key, so several gateways can share one Redis. */
		key_prefix: string;
		/** Capacity leased per refill, as a fraction of the limit (at least 1 unit). */
		lease_fraction: number;
		/** No request waits on Redis longer than this; past it the instance decides with its share. */
		deadline_ms: number;
		/** Leased capacity unused this long goes back to the fleet. */
		idle_ms: number;
		/** An instance silent this long (killed) loses its concurrency slots. */
		holder_ttl_ms: number;
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
	/** Operators' login to /admin/* (Ed25519 challenge-response sessions beside the admin token). */
	admin: {
		/** false: the admin token no longer opens /admin/* (sessions only; production with keys). */
		token_enabled: boolean;
		/** Enrolled at startup if absent (OpenSSH `ssh-ed25519 …` lines or raw base64 keys). */
		public_keys: string[];
		session_ttl_ms: number;
		/** How long a login challenge can be redeemed. */
		challenge_ttl_ms: number;
		/** Login challenges per minute, per client IP and per key fingerprint. */
		login_attempts_per_minute: number;
	};
	routing: {
		strategy: RoutingStrategy;
		max_account_switches: number;
		first_byte_timeout_ms: number;
		request_timeout_ms: number;
		/** Longest cooldown an upstream's retry-after can put on an account or model (ms). */
		max_retry_after_ms: number;
		/** Largest non-streamed upstream answer read; larger is UPSTREAM_BAD_RESPONSE (streams are relayed, not capped). */
		max_upstream_body_bytes: number;
		/** A stream whose upstream sends nothing (comments aside) this long is broken off in-band. */
		stream_idle_timeout_ms: number;
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
	metrics: {
		/** When set, /metrics wants `Authorization: Bearer <token>`. */
		token?: string;
	};
	usage: {
		/**
		 * A streaming client that leaves before the end: `cancel` stops the upstream at once
		 * (saves the rest of the generation; the row bills an estimate), `finish` reads it to
		 * its end unseen for the upstream's exact usage (bills what the upstream will charge).
		 */
		on_client_abort: OnClientAbort;
	};
	telemetry: TelemetryConfig;
	log_level: string;
	/** Request and response bodies (opt-in), their retention and redaction. */
	logging: LoggingConfig;
	/** Webhooks from `[[alerts]]` (the admin API adds more) and how alerts are evaluated and sent. */
	alerts: AlertWebhookConfig[];
	alerts_policy: AlertsPolicy;
	providers: ProviderConfig[];
	aliases: AliasConfig[];
	/** Public names over ordered or weighted targets across providers (failover before the first byte). */
	model_groups: ModelGroupConfig[];
	prices: PriceConfig[];
}

export const ON_CLIENT_ABORT = ["cancel", "finish"] as const;
export type OnClientAbort = (typeof ON_CLIENT_ABORT)[number];

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
