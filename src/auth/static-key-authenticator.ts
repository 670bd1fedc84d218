import { GatewayError } from "../errors/gateway-error.ts";
import type { Authenticator, Principal } from "./principal.ts";
import { sha256Hex } from "./sha256.ts";

/**
 * Dev-convenience keys from GATEWAY_API_KEYS / auth.static_keys. The presented key is hashed
 * and looked up by hash, so the time taken does not depend on how much of a key matched.
 */
export class StaticKeyAuthenticator implements Authenticator {
	private readonly hashes: ReadonlySet<string>;
	/**
	 * The one principal every static key shares: with `rpm` (auth.static_keys_rpm) its limit
	 * is a single bucket for all of them, like the seed gateways' global request limit.
	 */
	readonly principal: Principal;

	constructor(keys: readonly string[], rpm = 0) {
		this.hashes = new Set(keys.map(sha256Hex));
		this.principal = { keyId: null, tenantId: null, models: null, limits: rpm > 0 ? { rpm } : null };
	}

	get size(): number {
		return this.hashes.size;
	}

	has(token: string): boolean {
		return this.hashes.has(sha256Hex(token));
	}

	/** `has` for a key already hashed with sha256Hex (callers that need the hash anyway). */
	hasHash(hash: string): boolean {
		return this.hashes.has(hash);
	}

	authenticate(token: string): Principal {
		if (this.has(token)) return this.principal;
		throw new GatewayError("PLATFORM_AUTH_INVALID_API_KEY", "Incorrect API key provided.");
	}
}
