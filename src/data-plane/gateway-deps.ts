import type { Authenticator, Principal } from "../auth/principal.ts";
import type { GatewayConfig } from "../config/types.ts";
import type { Logger } from "../logging/logger.ts";
import type { Operation } from "../providers/operations.ts";
import type { ProviderSet } from "../providers/provider-registry.ts";
import type { AccountSelector } from "../routing/account-selector.ts";
import type { DrainState } from "../server/drain-state.ts";
import type { PriceLookup, RecordListener, UsageSink } from "../usage/request-record.ts";

/** A request let through the limits. */
export interface Admission {
	/** Rate-limit headers (`x-ratelimit-*`) for every response of this request. */
	readonly headers?: Record<string, string>;
	/**
	 * Called exactly once per admitted request, on every path: settles the reservation to the
	 * real usage and frees the concurrency place.
	 */
	settle(tokens: number, usd: number): void;
}

/** What admission knows about the request beyond its body. */
export interface AdmitContext {
	/** Resolved model and provider (prices for the budget estimate). */
	model: string;
	provider: string;
	/**
	 * Aborts a wait for a concurrency place when the client goes away. A getter: touching a
	 * server request's `signal` costs several microseconds, so only a real wait reads it.
	 */
	signal?: () => AbortSignal;
}

/** Everything the data plane needs, injected so tests can build an app without listening. */
export interface GatewayDeps {
	config: GatewayConfig;
	logger: Logger;
	auth: Authenticator;
	/** Current providers (swapped when admins change them). */
	providers: () => ProviderSet;
	selector: AccountSelector;
	usage: UsageSink;
	prices: PriceLookup;
	recordListeners: RecordListener[];
	/** In-flight accounting for graceful drain; absent in unit tests. */
	drain?: DrainState;
	/** Limits: throws a GatewayError (429/403) or admits. Absent = no limits. */
	admit?: (
		principal: Principal,
		op: Operation,
		body: Record<string, unknown>,
		bodyBytes: number,
		ctx?: AdmitContext,
	) => Promise<Admission> | Admission;
}
