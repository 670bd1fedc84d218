import type { AccountRef } from "../providers/account-ref.ts";
import type { ProviderRuntime } from "../providers/provider-registry.ts";
import type { AttemptOutcome } from "./types.ts";

/** What the failover loop needs from account routing. */
/** Why no account of a provider can take a request now. */
export type UnavailableReason = "no_account" | "cooling_down" | "saturated" | "ejected" | "disabled";

export interface AccountSelector {
	/** The best available account of `provider` for `model`, skipping slots in `exclude`; null when none. */
	pick(provider: ProviderRuntime, model: string, exclude: ReadonlySet<number>, sessionKey?: string): AccountRef | null;
	/** Why no account of the provider can take `model` now, and when one may (ms), if known. */
	unavailable(provider: ProviderRuntime, model: string): { reason: UnavailableReason; retryAfterMs: number | null };
	acquire(account: AccountRef): void;
	release(account: AccountRef): void;
	report(account: AccountRef, outcome: AttemptOutcome): void;
}
