import { GatewayError } from "../errors/gateway-error.ts";
import type { Logger } from "../logging/logger.ts";
import { AuthCache } from "./auth-cache.ts";
import { compactLimits, type KeyPrincipal } from "./key-store.ts";
import { type Authenticator, KEY_LIMIT_FIELDS, type KeyLimits, type Principal, periodOf } from "./principal.ts";
import { sha256Hex } from "./sha256.ts";

export interface IntrospectionOptions {
	url: string;
	/** Fresh life of an active answer (capped by the token's `exp`). Default 30 s. */
	ttlMs?: number;
	/** How long an inactive answer is remembered. Default 5 s. */
	negativeTtlMs?: number;
	/** Per call. Default 2 s. */
	timeoutMs?: number;
	maxEntries?: number;
	now?: () => number;
	fetch?: typeof fetch;
	logger?: Logger;
}

interface Entry {
	principal: KeyPrincipal;
	/** Epoch ms from the answer's `exp`; null = none given. */
	exp: number | null;
}

const unavailable = (cause?: unknown) =>
	new GatewayError("PLATFORM_AUTH_UNAVAILABLE", "The token introspection service is unavailable; try again shortly.", {
		cause,
		retryAfterSeconds: 1,
	});
const invalid = () => new GatewayError("PLATFORM_AUTH_INVALID_API_KEY", "Incorrect API key provided.");

function limitsFrom(o: Record<string, unknown>): KeyLimits | null {
	const src = (o.limits && typeof o.limits === "object" ? o.limits : o) as Record<string, unknown>;
	const out: KeyLimits = {};
	for (const f of KEY_LIMIT_FIELDS) {
		const v = src[f];
		if (typeof v === "number" && v >= 0) out[f] = v;
	}
	out.budget_period = periodOf(src.budget_period);
	const c = compactLimits(out);
	return Object.keys(c).length > 0 ? c : null;
}

const str = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);

/** Maps an RFC 7662 answer (plus our extension fields) to a principal. */
export function principalFromIntrospection(body: Record<string, unknown>, tokenHash: string): KeyPrincipal {
	const models = Array.isArray(body.models) ? body.models.filter((m): m is string => typeof m === "string") : null;
	const tenantLimits =
		body.tenant_limits && typeof body.tenant_limits === "object"
			? limitsFrom(body.tenant_limits as Record<string, unknown>)
			: null;
	return {
		// Without an id from the token service, limits still need a stable subject: a hash prefix.
		keyId: str(body.key_id) ?? str(body.sub) ?? `intro_${tokenHash.slice(0, 16)}`,
		tenantId: str(body.tenant_id),
		models: models && models.length > 0 ? new Set(models) : null,
		limits: limitsFrom(body),
		tenantLimits,
	};
}

/**
 * `remote_introspection` auth mode: each unknown token is POSTed (form-encoded `token=…`, as
 * RFC 7662) to the token service; `{active: true, …}` admits it. Answers are cached in memory
 * by the token's SHA-256 for a short TTL; the gateway never writes tokens anywhere. Any failure
 * to get an answer (network, timeout, non-2xx, bad JSON) fails closed with 503 and is not
 * cached, so the next request asks again.
 *
 * Extension fields read from the answer: `key_id` (else `sub`), `tenant_id`, `models` (array),
 * limit fields (`rpm`, `tpm`, … top level or under `limits`), `tenant_limits`, `exp` (seconds).
 */
export class IntrospectionAuthenticator implements Authenticator {
	readonly cache: AuthCache<Entry>;
	private readonly url: string;
	private readonly timeoutMs: number;
	private readonly now: () => number;
	private readonly fetchFn: typeof fetch;
	private readonly logger: Logger | undefined;
	private readonly inflight = new Map<string, Promise<Entry | null>>();

	constructor(opts: IntrospectionOptions) {
		this.url = opts.url;
		this.timeoutMs = opts.timeoutMs ?? 2_000;
		this.now = opts.now ?? Date.now;
		this.fetchFn = opts.fetch ?? fetch;
		this.logger = opts.logger;
		const ttl = opts.ttlMs ?? 30_000;
		this.cache = new AuthCache<Entry>({
			positiveTtlMs: ttl,
			maxStaleMs: ttl,
			negativeTtlMs: opts.negativeTtlMs ?? 5_000,
			maxPositive: opts.maxEntries ?? 50_000,
			maxNegative: opts.maxEntries ?? 50_000,
			now: this.now,
		});
	}

	authenticate(token: string): Principal | Promise<Principal> {
		const hash = sha256Hex(token);
		const hit = this.cache.get(hash);
		if (hit.kind === "positive" && hit.fresh) return this.admit(hit.value);
		if (hit.kind === "negative") throw invalid();
		let pending = this.inflight.get(hash);
		if (!pending) {
			pending = this.introspect(token, hash).finally(() => this.inflight.delete(hash));
			this.inflight.set(hash, pending);
		}
		return pending.then((e) => this.admit(e));
	}

	private admit(e: Entry | null): Principal {
		if (!e) throw invalid();
		if (e.exp !== null && e.exp <= this.now()) {
			throw new GatewayError("PLATFORM_AUTH_KEY_EXPIRED", "This API key has expired.");
		}
		return e.principal;
	}

	private async introspect(token: string, hash: string): Promise<Entry | null> {
		let body: Record<string, unknown>;
		try {
			const res = await this.fetchFn(this.url, {
				method: "POST",
				headers: {
					"content-type": "application/x-www-form-urlencoded",
					accept: "application/json",
				},
				body: new URLSearchParams({
					token,
					token_type_hint: "api_key",
				}).toString(),
				signal: AbortSignal.timeout(this.timeoutMs),
				// never resend the client's token to wherever a redirect points
				redirect: "manual",
			});
			if (!res.ok) throw new Error(`introspection answered HTTP ${res.status}`);
			const parsed = (await res.json()) as unknown;
			if (!parsed || typeof parsed !== "object") throw new Error("introspection answer is not a JSON object");
			body = parsed as Record<string, unknown>;
		} catch (err) {
			this.logger?.warn({ err: (err as Error).message }, "token introspection failed: refusing the request");
			throw unavailable(err);
		}
		if (body.active !== true) {
			this.cache.setNegative(hash);
			return null;
		}
		const exp = typeof body.exp === "number" ? body.exp * 1000 : null;
		const entry: Entry = {
			principal: principalFromIntrospection(body, hash),
			exp,
		};
		this.cache.setPositive(hash, entry, entry.principal.keyId);
		return entry;
	}
}
