import { GatewayError } from "../errors/gateway-error.ts";
import type { Logger } from "../logging/logger.ts";
import { hashApiKey, isGatewayApiKey } from "./api-key-format.ts";
import { AuthCache } from "./auth-cache.ts";
import type { KeyPrincipal, KeyRecord, KeyStore } from "./key-store.ts";
import type { Authenticator, Principal } from "./principal.ts";
import type { StaticKeyAuthenticator } from "./static-key-authenticator.ts";

export interface CachedKey {
	record: KeyRecord;
	principal: KeyPrincipal;
}

export interface DbKeyAuthenticatorOptions {
	store: KeyStore;
	cache?: AuthCache<CachedKey>;
	/** Dev-only convenience keys; pass null in production. */
	staticKeys?: StaticKeyAuthenticator | null;
	now?: () => number;
	logger?: Logger;
}

const invalidKey = () => new GatewayError("PLATFORM_AUTH_INVALID_API_KEY", "Incorrect API key provided.");

function principalOf(r: KeyRecord): KeyPrincipal {
	return {
		keyId: r.id,
		tenantId: r.tenantId,
		models: r.models ? new Set(r.models) : null,
		limits: Object.keys(r.limits).length > 0 ? r.limits : null,
		tenantLimits: r.tenantLimits,
		...(r.logBodies ? { logBodies: r.logBodies } : {}),
	};
}

/**
 * `local` auth mode: virtual keys from the database behind the auth cache. A fresh cache hit
 * answers synchronously (no await on the hot path); a miss is one indexed lookup by hash,
 * shared by concurrent requests for the same key. Keys not shaped like ours are refused before
 * any lookup, so random strings never reach Postgres. Expiry is checked on every request
 * against the cached timestamp, so it takes effect on time without any invalidation.
 */
export class DbKeyAuthenticator implements Authenticator {
	readonly cache: AuthCache<CachedKey>;
	private readonly store: KeyStore;
	private readonly staticKeys: StaticKeyAuthenticator | null;
	private readonly now: () => number;
	private readonly logger: Logger | undefined;
	private readonly inflight = new Map<string, Promise<CachedKey | null>>();

	constructor(opts: DbKeyAuthenticatorOptions) {
		this.store = opts.store;
		this.cache = opts.cache ?? new AuthCache<CachedKey>();
		this.staticKeys = opts.staticKeys ?? null;
		this.now = opts.now ?? Date.now;
		this.logger = opts.logger;
	}

	authenticate(token: string): Principal | Promise<Principal> {
		// one SHA-256 serves both lookups
		const hash = hashApiKey(token);
		if (this.staticKeys?.hasHash(hash)) return this.staticKeys.principal;
		if (!isGatewayApiKey(token)) throw invalidKey();
		const hit = this.cache.get(hash);
		if (hit.kind === "positive" && hit.fresh) return this.admit(hit.value);
		if (hit.kind === "negative") throw invalidKey();
		return this.load(hash, hit.kind === "positive" ? hit.value : null).then((v) => this.admit(v));
	}

	private admit(entry: CachedKey | null): Principal {
		if (!entry) throw invalidKey();
		const r = entry.record;
		if (r.revokedAt !== null) {
			throw new GatewayError("PLATFORM_AUTH_KEY_REVOKED", "This API key has been revoked.");
		}
		if (r.expiresAt !== null && r.expiresAt <= this.now()) {
			throw new GatewayError("PLATFORM_AUTH_KEY_EXPIRED", "This API key has expired.");
		}
		return entry.principal;
	}

	private load(hash: string, stale: CachedKey | null): Promise<CachedKey | null> {
		let pending = this.inflight.get(hash);
		if (!pending) {
			pending = this.fetch(hash, stale).finally(() => this.inflight.delete(hash));
			this.inflight.set(hash, pending);
		}
		return pending;
	}

	private async fetch(hash: string, stale: CachedKey | null): Promise<CachedKey | null> {
		let record: KeyRecord | null;
		try {
			record = await this.store.findByHash(hash);
		} catch (err) {
			if (stale) {
				this.logger?.warn({ err, key_id: stale.record.id }, "key lookup failed: serving the cached entry");
				return stale;
			}
			throw new GatewayError("PLATFORM_AUTH_UNAVAILABLE", "The key store is unavailable; try again shortly.", {
				cause: err,
				retryAfterSeconds: 1,
			});
		}
		if (!record) {
			this.cache.setNegative(hash);
			return null;
		}
		const entry = { record, principal: principalOf(record) };
		this.cache.setPositive(hash, entry, record.id);
		return entry;
	}
}
