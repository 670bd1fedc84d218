/**
 * Environment names of the systems Interchange replaces (the lijiaoqiao gateway and
 * go-aigateway), read as aliases of ours so their deployments start unchanged. Ours wins when
 * both are set. The README's "Seed environment names" table is this list.
 */
export interface SeedEnvAlias {
	seed: string;
	ours: string;
	/** Seed values that mean something else here (e.g. the seed's "inmemory" auth is our "local"). */
	values?: Readonly<Record<string, string>>;
}

export const SEED_ENV_ALIASES: readonly SeedEnvAlias[] = [
	{ seed: "GATEWAY_CORS_ALLOW_ORIGINS", ours: "GATEWAY_CORS_ORIGINS" },
	{ seed: "PASSWORD_ENCRYPTION_KEY", ours: "GATEWAY_ENCRYPTION_KEY" },
	{ seed: "GATEWAY_TOKEN_RUNTIME_MODE", ours: "GATEWAY_AUTH_MODE", values: { inmemory: "local" } },
	{ seed: "GATEWAY_TOKEN_RUNTIME_URL", ours: "GATEWAY_INTROSPECTION_URL" },
	{ seed: "TARGET_API_URL", ours: "OPENAI_BASE_URL" },
	{ seed: "TARGET_API_KEY", ours: "OPENAI_API_KEY" },
	{ seed: "RATE_LIMIT_REQUESTS_PER_MINUTE", ours: "GATEWAY_STATIC_KEYS_RPM" },
	{ seed: "HEALTH_CHECK_ENABLED", ours: "GATEWAY_HEALTH_ROUTE" },
];

type Env = Record<string, string | undefined>;

/** The environment with each unset name of ours filled from its seed alias. */
export function withSeedEnvAliases(env: Env): Env {
	let out: Env | null = null;
	for (const a of SEED_ENV_ALIASES) {
		const v = env[a.seed];
		if (v === undefined || env[a.ours] !== undefined) continue;
		out ??= { ...env };
		out[a.ours] = a.values?.[v] ?? v;
	}
	return out ?? env;
}
