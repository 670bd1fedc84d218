import type { ProviderRuntime } from "../providers/provider-registry.ts";
import type { AccountRef, AttemptOutcome } from "./types.ts";

/** What the failover loop needs from account routing. */
export interface AccountSelector {
	/** The best available account of `provider` for `model`, skipping slots in `exclude`; null when none. */
	pick(
		provider: ProviderRuntime,
		model: string,
		exclude: ReadonlySet<number>,
		sessionKey?: string,
	): AccountRef | null;
	/** Milliseconds until some account of the provider leaves its cooldown, or null if none is cooling. */
	soonestRetryMs(provider: ProviderRuntime, model: string): number | null;
	acquire(account: AccountRef): void;
	release(account: AccountRef): void;
	report(account: AccountRef, outcome: AttemptOutcome): void;
}
