import type { Sql } from "postgres";
import type { GatewayConfig } from "../config/types.ts";
import type { Logger } from "../logging/logger.ts";
import { AuthCache, type AuthCacheOptions } from "./auth-cache.ts";
import { type CachedKey, DbKeyAuthenticator } from "./db-key-authenticator.ts";
import { IntrospectionAuthenticator } from "./introspection-authenticator.ts";
import { createDbKeyStore } from "./key-store.ts";
import type { Authenticator } from "./principal.ts";
import { StaticKeyAuthenticator } from "./static-key-authenticator.ts";

export interface CreatedAuthenticator {
	auth: Authenticator;
	/** Drops what is cached for a key id (admin PATCH / DELETE). */
	dropKey(id: string): void;
	/** Drops everything (tenant limits changed). */
	dropAll(): void;
	/** Drops the "no such key" entries (a key was created). */
	dropNegative(): void;
}

export interface CreateAuthenticatorInput {
	config: GatewayConfig;
	sql: Sql;
	logger?: Logger;
	cache?: AuthCacheOptions;
}

/**
 * The authenticator for `auth.mode`. `local`: virtual keys from the database, plus the static
 * env keys in dev only (production refuses them at config load, and they are ignored here
 * too). `remote_introspection`: the external token service decides.
 */
export function createAuthenticator(input: CreateAuthenticatorInput): CreatedAuthenticator {
	const { config, logger } = input;
	if (config.auth.mode === "remote_introspection") {
		const auth = new IntrospectionAuthenticator({
			url: config.auth.introspection_url as string,
			logger,
		});
		return {
			auth,
			dropKey: (id) => auth.cache.dropId(id),
			dropAll: () => auth.cache.clear(),
			dropNegative: () => auth.cache.clearNegative(),
		};
	}
	const cache = new AuthCache<CachedKey>(input.cache);
	const staticKeys =
		config.env === "dev" && config.auth.static_keys.length > 0
			? new StaticKeyAuthenticator(config.auth.static_keys, config.auth.static_keys_rpm)
			: null;
	const auth = new DbKeyAuthenticator({
		store: createDbKeyStore(input.sql),
		cache,
		staticKeys,
		logger,
	});
	return {
		auth,
		dropKey: (id) => cache.dropId(id),
		dropAll: () => cache.clear(),
		dropNegative: () => cache.clearNegative(),
	};
}
