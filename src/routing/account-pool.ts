import type { RoutingStrategy } from "../config/types.ts";
import type { AccountRef } from "../providers/account-ref.ts";
import { type AccountAvailability, AccountHealth } from "./account-health.ts";
import type { AccountStateTable } from "./account-state-table.ts";
import { fnv1a32String } from "./hash32.ts";
import { StickySessions } from "./sticky-sessions.ts";
import { STRATEGIES, type StrategyContext } from "./strategies.ts";
import type { AttemptOutcome } from "./types.ts";

export interface PickRequest {
	model: string;
	/** Only accounts of this provider (when a pool spans providers). */
	provider?: string;
	/** Slots already tried in this request. */
	exclude?: ReadonlySet<number>;
	/** Session affinity key; see sticky-sessions.ts. */
	sessionKey?: string;
}

export interface AccountPoolOptions {
	strategy: RoutingStrategy;
	/** Epoch milliseconds. */
	now?: () => number;
	/** Uniform in [0, 1). */
	random?: () => number;
	health?: AccountHealth;
	sticky?: StickySessions;
}

export type UnavailableReason =
	| "no_account" // nothing serves the model (or everything was excluded)
	| "cooling_down" // upstream rate limits: answer 429 with retryAfterMs
	| "saturated" // every usable account is at max_concurrency
	| "ejected" // failing upstreams: answer 503
	| "disabled"; // upstream rejected our credentials

export interface Unavailability {
	reason: UnavailableReason;
	/** When the earliest blocked account frees up, if known. */
	retryAfterMs: number | null;
}

/** One account's live state, for /admin/providers and /metrics. */
export interface AccountLiveState {
	slot: number;
	provider: string;
	name: string;
	state: AccountAvailability;
	weight: number;
	max_concurrency: number;
	inflight: number;
	ewma_ttft_ms: number | null;
	error_ratio: number;
	consecutive_failures: number;
	/** Epoch ms; null when not ejected. */
	ejected_until: number | null;
	/** Epoch ms; null when not cooling down. */
	cooldown_until: number | null;
	disabled: boolean;
	/** Upstream status that disabled the account (401/403), else null. */
	disabled_status: number | null;
	ejections: number;
	attempts: number;
	successes: number;
	failures: number;
	cooldowns: number;
}

type MutableStrategyContext = {
	-readonly [K in keyof StrategyContext]: StrategyContext[K];
};

/**
 * The accounts one routing decision chooses among, with their shared live state.
 * One instance per worker; every instance over the same table sees the same state.
 *
 * Usage: `pick` → `acquire` (false = it filled up meanwhile: exclude it and pick again)
 * → attempt → `recordOutcome` → `release`.
 */
export class AccountPool {
	readonly table: AccountStateTable;
	readonly health: AccountHealth;
	readonly sticky: StickySessions;
	private strategyName: RoutingStrategy;
	private list: readonly AccountRef[] = [];
	private candidates: AccountRef[] = [];
	private readonly now: () => number;
	private readonly ctx: MutableStrategyContext;

	constructor(accounts: readonly AccountRef[], table: AccountStateTable, options: AccountPoolOptions) {
		this.table = table;
		this.health = options.health ?? new AccountHealth(table);
		if (this.health.table !== table) throw new TypeError("health must use the pool's table");
		this.sticky = options.sticky ?? new StickySessions();
		this.strategyName = options.strategy;
		this.now = options.now ?? Date.now;
		this.ctx = {
			table,
			health: this.health,
			now: 0,
			random: options.random ?? Math.random,
			roundRobinCounter: 0,
		};
		this.setAccounts(accounts);
	}

	get strategy(): RoutingStrategy {
		return this.strategyName;
	}

	get accounts(): readonly AccountRef[] {
		return this.list;
	}

	setStrategy(strategy: RoutingStrategy): void {
		if (!(strategy in STRATEGIES)) throw new TypeError(`unknown routing strategy: ${strategy}`);
		this.strategyName = strategy;
	}

	/** Swap the account list (admin changes). Slots, and so live state, carry over. */
	setAccounts(accounts: readonly AccountRef[]): void {
		const seen = new Set<number>();
		for (const account of accounts) {
			const { slot } = account;
			if (!Number.isInteger(slot) || slot < 0 || slot >= this.table.capacity) {
				throw new RangeError(`account ${account.provider}/${account.name} has invalid slot ${slot}`);
			}
			if (seen.has(slot)) {
				throw new RangeError(`slot ${slot} is used by more than one account`);
			}
			seen.add(slot);
		}
		this.list = [...accounts];
		this.candidates = new Array<AccountRef>(this.list.length);
	}

	/**
	 * The account for the next attempt, or null when none is usable right now
	 * (`unavailability` says why). A half-open account whose single probe this call
	 * wins is returned ahead of the strategy, so recovery is noticed promptly.
	 */
	pick(request: PickRequest): AccountRef | null {
		const now = this.now();
		const table = this.table;
		const { model, provider, exclude, sessionKey } = request;
		const candidates = this.candidates;
		let count = 0;
		for (const account of this.list) {
			if (provider !== undefined && account.provider !== provider) continue;
			if (account.models !== null && !account.models.has(model)) continue;
			const slot = account.slot;
			if (exclude?.has(slot)) continue;
			if (table.disabledStatus(slot) !== 0) continue;
			if (account.maxConcurrency > 0 && table.inflight(slot) >= account.maxConcurrency) continue;
			if (table.cooldownUntil(slot) > now) continue;
			const ejectedUntil = table.ejectedUntil(slot);
			if (ejectedUntil !== 0) {
				if (now >= ejectedUntil && this.health.tryAcquireProbe(slot, now)) return account;
				continue;
			}
			candidates[count++] = account;
		}
		if (count === 0) return null;
		if (sessionKey !== undefined && sessionKey !== "") {
			return candidates[this.sticky.choose(sessionKey, candidates, count, now)];
		}
		if (count === 1) return candidates[0];
		const ctx = this.ctx;
		ctx.now = now;
		ctx.roundRobinCounter = fnv1a32String(model);
		return candidates[STRATEGIES[this.strategyName](candidates, count, ctx)];
	}

	/** Count a request in flight; false if the account reached max_concurrency meanwhile. */
	acquire(account: AccountRef): boolean {
		return this.table.tryAcquire(account.slot, account.maxConcurrency);
	}

	release(account: AccountRef): void {
		this.table.release(account.slot);
	}

	recordOutcome(account: AccountRef, outcome: AttemptOutcome, now: number = this.now()): void {
		this.health.recordOutcome(account.slot, outcome, now);
	}

	/** Why `pick` found nothing for this request, and when to try again. */
	unavailability(request: Omit<PickRequest, "sessionKey">): Unavailability {
		const now = this.now();
		const table = this.table;
		let matched = false;
		let disabled = false;
		let saturated = false;
		let ejected = false;
		let coolingUntil = Number.POSITIVE_INFINITY;
		let ejectedUntilMin = Number.POSITIVE_INFINITY;
		for (const account of this.list) {
			if (request.provider !== undefined && account.provider !== request.provider) continue;
			if (account.models !== null && !account.models.has(request.model)) continue;
			if (request.exclude?.has(account.slot)) continue;
			matched = true;
			const slot = account.slot;
			if (table.disabledStatus(slot) !== 0) {
				disabled = true;
				continue;
			}
			const cooldownUntil = table.cooldownUntil(slot);
			if (cooldownUntil > now) {
				coolingUntil = Math.min(coolingUntil, cooldownUntil);
				continue;
			}
			const ejectedUntil = table.ejectedUntil(slot);
			if (ejectedUntil !== 0) {
				ejected = true;
				// Half-open with the probe taken: free again when the probe reports.
				if (ejectedUntil > now) ejectedUntilMin = Math.min(ejectedUntilMin, ejectedUntil);
				continue;
			}
			if (account.maxConcurrency > 0 && table.inflight(slot) >= account.maxConcurrency) {
				saturated = true;
			}
		}
		const after = (until: number) => (Number.isFinite(until) ? Math.max(0, Math.ceil(until - now)) : null);
		if (!matched) return { reason: "no_account", retryAfterMs: null };
		if (Number.isFinite(coolingUntil)) return { reason: "cooling_down", retryAfterMs: after(coolingUntil) };
		if (saturated) return { reason: "saturated", retryAfterMs: null };
		if (ejected) return { reason: "ejected", retryAfterMs: after(ejectedUntilMin) };
		if (disabled) return { reason: "disabled", retryAfterMs: null };
		return { reason: "no_account", retryAfterMs: null };
	}

	snapshot(): AccountLiveState[] {
		const now = this.now();
		const table = this.table;
		return this.list.map((account) => {
			const slot = account.slot;
			const ewmaUs = table.ewmaTtftUs(slot);
			const ejectedUntil = table.ejectedUntil(slot);
			const cooldownUntil = table.cooldownUntil(slot);
			const disabledStatus = table.disabledStatus(slot);
			return {
				slot,
				provider: account.provider,
				name: account.name,
				state: this.health.availability(slot, now),
				weight: account.weight,
				max_concurrency: account.maxConcurrency,
				inflight: table.inflight(slot),
				ewma_ttft_ms: ewmaUs === 0 ? null : ewmaUs / 1000,
				error_ratio: this.health.errorRatio(slot, now),
				consecutive_failures: table.consecutiveFailures(slot),
				ejected_until: ejectedUntil === 0 ? null : ejectedUntil,
				cooldown_until: cooldownUntil > now ? cooldownUntil : null,
				disabled: disabledStatus !== 0,
				disabled_status: disabledStatus === 0 ? null : disabledStatus,
				ejections: table.counter(slot, "ejections"),
				attempts: table.counter(slot, "attempts"),
				successes: table.counter(slot, "successes"),
				failures: table.counter(slot, "failures"),
				cooldowns: table.counter(slot, "cooldowns"),
			};
		});
	}
}
