import type { AccountRef } from "../providers/account-ref.ts";
import type { ProviderRuntime } from "../providers/provider-registry.ts";
import type { AccountHealth } from "./account-health.ts";
import { AccountPool } from "./account-pool.ts";
import type { AccountSelector } from "./account-selector.ts";
import type { StickySessions } from "./sticky-sessions.ts";
import type { AttemptOutcome } from "./types.ts";

export interface PoolAccountSelectorOptions {
	health: AccountHealth;
	sticky: StickySessions;
	now?: () => number;
	random?: () => number;
}

/**
 * The failover loop's AccountSelector over one AccountPool per provider, so each
 * provider keeps its own strategy. Pools are keyed by the ProviderRuntime object: an
 * admin change that rebuilds the provider set gets fresh pools on the same slots.
 */
export function createPoolAccountSelector(options: PoolAccountSelectorOptions): AccountSelector {
	const pools = new WeakMap<ProviderRuntime, AccountPool>();
	const now = options.now ?? Date.now;
	const poolOf = (provider: ProviderRuntime): AccountPool => {
		let pool = pools.get(provider);
		if (pool === undefined) {
			pool = new AccountPool(provider.accounts, options.health.table, {
				strategy: provider.strategy,
				health: options.health,
				sticky: options.sticky,
				now,
				random: options.random,
			});
			pools.set(provider, pool);
		}
		return pool;
	};
	return {
		pick: (provider, model, exclude, sessionKey) => poolOf(provider).pick({ model, exclude, sessionKey }),
		unavailable: (provider, model) => poolOf(provider).unavailability({ model }),
		acquire(account: AccountRef) {
			// This interface cannot refuse; if the account filled up since `pick`, count the
			// request anyway so the matching release stays balanced.
			if (!options.health.table.tryAcquire(account.slot, account.maxConcurrency)) {
				options.health.table.tryAcquire(account.slot, 0);
			}
		},
		release: (account: AccountRef) => options.health.table.release(account.slot),
		report: (account: AccountRef, outcome: AttemptOutcome) =>
			options.health.recordOutcome(account.slot, outcome, now()),
	};
}
