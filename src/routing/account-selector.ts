import type { AccountRef } from "../providers/account-ref.ts";
import type { ProviderRuntime } from "../providers/provider-registry.ts";
import type { AttemptOutcome } from "./types.ts";

/** Why no account of a provider can take a request now. */
export type UnavailableReason = "no_account" | "cooling_down" | "saturated" | "ejected" | "disabled";

/** What the failover loop needs from account routing. */
export interface AccountSelector {
	/** The best available account of `provider` for `model`, skipping slots in `exclude`; null when none. */
	pick(provider: ProviderRuntime, model: string, exclude: ReadonlySet<number>, sessionKey?: string): AccountRef | null;
	/** The least bad account when `pick` found none (ejected or cooling, but not by an upstream's retry-after). */
	fallback(provider: ProviderRuntime, model: string, exclude: ReadonlySet<number>): AccountRef | null;
	/** Why no account of the provider can take `model` now, and when one may (ms), if known. */
	unavailable(provider: ProviderRuntime, model: string): { reason: UnavailableReason; retryAfterMs: number | null };
	acquire(account: AccountRef): void;
	release(account: AccountRef): void;
	/** An attempt's outcome for `model` on `account`. */
	report(account: AccountRef, model: string, outcome: AttemptOutcome): void;
}
