import type { Principal } from "../auth/principal.ts";
import type { Operation } from "../protocols/operations.ts";

/** A request let through the limits. */
export interface Admission {
	/** Rate-limit headers (`x-ratelimit-*`) for every response of this request. */
	readonly headers?: Record<string, string>;
	/**
	 * Called exactly once per admitted request, on every path: settles the reservation to the
	 * real usage and frees the concurrency place.
	 */
	settle(tokens: number, usd: number): void;
	/**
	 * Frees the concurrency place before `settle` (which still follows): the request is over,
	 * only its usage is still being counted (an estimate). Optional: a no-op without limits.
	 */
	release?(): void;
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

/** Limits for one request: throws a GatewayError (429/403) or admits it. */
export type Admit = (
	principal: Principal,
	op: Operation,
	body: Record<string, unknown>,
	bodyBytes: number,
	ctx?: AdmitContext,
) => Promise<Admission> | Admission;
