import type { AccountRef } from "../providers/account-ref.ts";
import { AccountHealth, type HealthPolicy } from "./account-health.ts";
import { type AccountStateTable, accountKey } from "./account-state-table.ts";
import type { AttemptOutcome } from "./types.ts";

/**
 * Health per (account, model): a "lane". One model's 5xx, 429s and timeouts cool down or
 * eject only that model on that account; 401/403 and connection failures stay account-wide
 * (they say the account itself is broken or unreachable).
 *
 * Why a second AccountStateTable keyed by `provider/account\0model`, and not a fixed model
 * index or a per-account array: the table already is a lock-free, cross-worker map with every
 * field a lane needs (ejection, cooldown, probe lease, error windows), so AccountHealth runs
 * over it unchanged; and model ids are open-ended (a provider with no model list accepts any
 * `provider/model`), so an index fixed at startup cannot cover them.
 *
 * Bounded and cheap:
 * - A lane is claimed only when a model-scoped failure needs one; a model that never fails
 *   has none and costs one Map lookup per candidate account.
 * - At most `maxPerAccount` lanes per account (counted in the account's slot) and at most
 *   the lane table's capacity overall. A model past either bound is not tracked: it keeps
 *   being routed, never ejected, rather than taking the whole account down with it.
 * - Each worker caches model → lane per account in a small Map (no allocation on a hit).
 *   "No lane" is cached too, valid while the table's claim generation is unchanged.
 */
export const DEFAULT_MAX_LANES = 4096;
export const DEFAULT_MAX_LANES_PER_ACCOUNT = 32;

/** Worker-local cache entries per account before it is cleared (clients choose model names). */
const CACHE_LIMIT = 256;
const NO_LANE = -1;

/** 5xx, 429 and timeouts are about one model on the account; everything else is not. */
export function isModelScoped(outcome: AttemptOutcome): boolean {
	return outcome.kind === "server_error" || outcome.kind === "rate_limited" || outcome.kind === "timeout";
}

const laneKey = (account: string, model: string) => `${account}\u0000${model}`;

/** One lane as the admin views and /metrics show it. */
export interface LaneRef {
	lane: number;
	provider: string;
	account: string;
	model: string;
}

export class ModelLanes {
	readonly health: AccountHealth;
	private readonly cache: Map<number, Map<string, number>> = new Map();
	private cacheGeneration = -1;

	constructor(
		readonly table: AccountStateTable,
		/** The account table: each account's lane count lives in its slot. */
		private readonly accounts: AccountStateTable,
		policy: Partial<HealthPolicy> = {},
		private readonly maxPerAccount = DEFAULT_MAX_LANES_PER_ACCOUNT,
	) {
		this.health = new AccountHealth(table, policy);
	}

	/** The lane of (account, model), or -1 when it has none. No allocation once cached. */
	find(account: AccountRef, model: string): number {
		const generation = this.table.generation();
		if (generation !== this.cacheGeneration) {
			// a lane was claimed somewhere: cached "no lane" answers may be stale
			for (const m of this.cache.values()) for (const [k, v] of m) if (v === NO_LANE) m.delete(k);
			this.cacheGeneration = generation;
		}
		let byModel = this.cache.get(account.slot);
		if (byModel === undefined) {
			byModel = new Map();
			this.cache.set(account.slot, byModel);
		}
		const hit = byModel.get(model);
		if (hit !== undefined) return hit;
		const lane = this.table.lookup(laneKey(accountKey(account.provider, account.name), model));
		if (byModel.size >= CACHE_LIMIT) byModel.clear();
		byModel.set(model, lane);
		return lane;
	}

	/** The lane of (account, model), claiming one within the bounds; -1 past them. */
	claim(account: AccountRef, model: string): number {
		const found = this.find(account, model);
		if (found !== NO_LANE) return found;
		if (this.accounts.addUserCounter(account.slot, 1) > this.maxPerAccount) {
			this.accounts.addUserCounter(account.slot, -1);
			return NO_LANE;
		}
		try {
			// two workers racing on one model both count it: the bound is then slightly lower
			return this.table.allocate(laneKey(accountKey(account.provider, account.name), model));
		} catch {
			this.accounts.addUserCounter(account.slot, -1);
			return NO_LANE;
		}
	}

	/** Feeds one attempt's outcome to the lane when the signal is about the model. */
	record(account: AccountRef, model: string, outcome: AttemptOutcome, now: number): boolean {
		if (isModelScoped(outcome)) {
			const lane = this.claim(account, model);
			if (lane !== NO_LANE) {
				const ejections = this.table.counter(lane, "ejections");
				this.health.recordOutcome(lane, outcome, now);
				// the account's ejection total counts its models' ejections too
				if (this.table.counter(lane, "ejections") !== ejections) this.accounts.increment(account.slot, "ejections");
			}
			return true;
		}
		// a success closes a half-open lane; a client error frees its probe
		const lane = this.find(account, model);
		if (lane !== NO_LANE && (outcome.kind === "success" || outcome.kind === "client_error")) {
			this.health.recordOutcome(lane, outcome, now);
		}
		return false;
	}

	/** Every lane of one account (admin and metrics; walks the table). */
	lanesOf(provider: string, account: string): LaneRef[] {
		return this.all().filter((l) => l.provider === provider && l.account === account);
	}

	/** Every claimed lane (admin and metrics; walks the table). */
	all(): LaneRef[] {
		const out: LaneRef[] = [];
		for (let lane = 0; lane < this.table.capacity; lane++) {
			const key = this.table.keyOf(lane);
			if (key === null) continue;
			const cut = key.indexOf("\u0000");
			const slash = key.indexOf("/");
			if (cut < 0 || slash < 0 || slash > cut) continue;
			out.push({ lane, provider: key.slice(0, slash), account: key.slice(slash + 1, cut), model: key.slice(cut + 1) });
		}
		return out;
	}

	/** Forget every lane's health of one account (its key or settings changed). */
	resetAccount(provider: string, account: string): void {
		for (const l of this.lanesOf(provider, account)) this.table.resetHealth(l.lane);
	}
}

/**
 * Routes one attempt's outcome: model-scoped signals to the (account, model) lane (the
 * account only counts the attempt), the rest to the account. Returns true when this call
 * disabled the account (an upstream 401/403; exactly one caller sees it).
 */
export function recordAttempt(
	health: AccountHealth,
	lanes: ModelLanes | null,
	account: AccountRef,
	model: string,
	outcome: AttemptOutcome,
	now: number,
): boolean {
	if (lanes?.record(account, model, outcome, now)) {
		health.countOnly(account.slot, outcome, now);
		return false;
	}
	return health.recordOutcome(account.slot, outcome, now);
}
