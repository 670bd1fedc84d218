import type { RoutingStrategy } from "../config/types.ts";
import type { AccountRef } from "../providers/account-ref.ts";
import { type AccountAvailability, AccountHealth, type AccountStatus } from "./account-health.ts";
import type { AccountStateTable } from "./account-state-table.ts";
import { fnv1a32String } from "./hash32.ts";
import { type ModelLanes, recordAttempt } from "./model-lanes.ts";
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
	/** Per-(account, model) health; absent = every signal is account-wide. */
	lanes?: ModelLanes | null;
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
	/** Account-wide state, with why and since/until (ISO times). */
	status: StatusView;
	/** Models cooling down or ejected on this account (model-scoped signals). */
	models: ({ model: string } & StatusView)[];
	ejections: number;
	attempts: number;
	successes: number;
	failures: number;
	cooldowns: number;
}

/** An AccountStatus with ISO times, as the admin API shows it. */
export interface StatusView {
	state: AccountStatus["state"];
	reason: string | null;
	since: string | null;
	until: string | null;
}

const iso = (ms: number | null) => (ms === null || ms <= 0 ? null : new Date(ms).toISOString());
export const statusView = (s: AccountStatus): StatusView => ({
	state: s.state,
	reason: s.reason,
	since: iso(s.since),
	until: iso(s.until),
});

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
	private candidateLanes = new Int32Array(0);
	private readonly lanes: ModelLanes | null;
	private readonly now: () => number;
	private readonly ctx: MutableStrategyContext;

	constructor(accounts: readonly AccountRef[], table: AccountStateTable, options: AccountPoolOptions) {
		this.table = table;
		this.health = options.health ?? new AccountHealth(table);
		if (this.health.table !== table) throw new TypeError("health must use the pool's table");
		this.sticky = options.sticky ?? new StickySessions();
		this.strategyName = options.strategy;
		this.now = options.now ?? Date.now;
		this.lanes = options.lanes ?? null;
		this.ctx = {
			table,
			health: this.health,
			lanes: this.candidateLanes,
			laneHealth: this.lanes?.health ?? null,
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
		this.candidateLanes = new Int32Array(this.list.length);
		this.ctx.lanes = this.candidateLanes;
	}

	/**
	 * The account for the next attempt, or null when none is usable right now
	 * (`unavailability` says why, `fallback` offers the least bad one). Both the account and
	 * its lane for the model must be usable. A half-open account or lane whose single probe
	 * this call wins is returned ahead of the strategy, so recovery is noticed promptly.
	 */
	pick(request: PickRequest): AccountRef | null {
		const now = this.now();
		const table = this.table;
		const { model, provider, exclude, sessionKey } = request;
		const candidates = this.candidates;
		const candidateLanes = this.candidateLanes;
		const lanes = this.lanes;
		let count = 0;
		for (const account of this.list) {
			if (provider !== undefined && account.provider !== provider) continue;
			if (account.models !== null && !account.models.has(model)) continue;
			const slot = account.slot;
			if (exclude?.has(slot)) continue;
			if (table.disabledStatus(slot) !== 0) continue;
			if (account.maxConcurrency > 0 && table.inflight(slot) >= account.maxConcurrency) continue;
			if (table.cooldownUntil(slot) > now) continue;
			const lane = lanes === null ? -1 : lanes.find(account, model);
			let probeLane = false;
			if (lane >= 0 && lanes !== null) {
				const laneTable = lanes.table;
				if (laneTable.cooldownUntil(lane) > now) continue;
				const laneEjectedUntil = laneTable.ejectedUntil(lane);
				if (laneEjectedUntil !== 0) {
					if (now < laneEjectedUntil) continue;
					probeLane = true;
				}
			}
			const ejectedUntil = table.ejectedUntil(slot);
			if (ejectedUntil !== 0 && now < ejectedUntil) continue;
			if (ejectedUntil !== 0 || probeLane) {
				// half-open: the account, the lane or both need this request as their probe
				if (ejectedUntil !== 0 && !this.health.tryAcquireProbe(slot, now)) continue;
				if (probeLane && lanes !== null && !lanes.health.tryAcquireProbe(lane, now)) {
					if (ejectedUntil !== 0) table.releaseProbe(slot);
					continue;
				}
				return account;
			}
			candidateLanes[count] = lane;
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

	/**
	 * The least bad account when `pick` found none (Envoy's panic routing): never dark while
	 * something might answer. Among accounts that serve the model, are not excluded, disabled
	 * (broken credentials) or saturated, and are not held back by an upstream's own
	 * retry-after, the one whose ejection or cooldown ends first. Null when there is none:
	 * then a retry-after cooldown is honoured with a 429.
	 */
	fallback(request: Omit<PickRequest, "sessionKey">): AccountRef | null {
		const now = this.now();
		const table = this.table;
		const lanes = this.lanes;
		let best: AccountRef | null = null;
		let bestUntil = Number.POSITIVE_INFINITY;
		for (const account of this.list) {
			if (request.provider !== undefined && account.provider !== request.provider) continue;
			if (account.models !== null && !account.models.has(request.model)) continue;
			const slot = account.slot;
			if (request.exclude?.has(slot)) continue;
			if (table.disabledStatus(slot) !== 0) continue;
			if (account.maxConcurrency > 0 && table.inflight(slot) >= account.maxConcurrency) continue;
			let until = blockedUntil(table, slot, now);
			if (until < 0) continue;
			const lane = lanes === null ? -1 : lanes.find(account, request.model);
			if (lane >= 0 && lanes !== null) {
				const laneUntil = blockedUntil(lanes.table, lane, now);
				if (laneUntil < 0) continue;
				until = Math.max(until, laneUntil);
			}
			if (until < bestUntil) {
				best = account;
				bestUntil = until;
			}
		}
		return best;
	}

	/** Count a request in flight; false if the account reached max_concurrency meanwhile. */
	acquire(account: AccountRef): boolean {
		return this.table.tryAcquire(account.slot, account.maxConcurrency);
	}

	release(account: AccountRef): void {
		this.table.release(account.slot);
	}

	/**
	 * Feeds an attempt's outcome back: with a model, model-scoped signals go to its lane and
	 * the rest to the account; without one, everything is account-wide.
	 */
	recordOutcome(account: AccountRef, outcome: AttemptOutcome, now: number = this.now(), model?: string): void {
		recordAttempt(this.health, model === undefined ? null : this.lanes, account, model ?? "", outcome, now);
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
			const lane = this.lanes === null ? -1 : this.lanes.find(account, request.model);
			const lanesTable = this.lanes?.table ?? null;
			const cooldownUntil = Math.max(
				table.cooldownUntil(slot),
				lane >= 0 && lanesTable !== null ? lanesTable.cooldownUntil(lane) : 0,
			);
			if (cooldownUntil > now) {
				coolingUntil = Math.min(coolingUntil, cooldownUntil);
				continue;
			}
			const ejectedUntil = Math.max(
				table.ejectedUntil(slot),
				lane >= 0 && lanesTable !== null ? lanesTable.ejectedUntil(lane) : 0,
			);
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

	private modelStatuses(account: AccountRef, now: number): AccountLiveState["models"] {
		const lanes = this.lanes;
		if (lanes === null) return [];
		const out: AccountLiveState["models"] = [];
		for (const l of lanes.lanesOf(account.provider, account.name)) {
			const status = lanes.health.status(l.lane, now);
			if (status.state !== "healthy") out.push({ model: l.model, ...statusView(status) });
		}
		return out;
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
				status: statusView(this.health.status(slot, now)),
				models: this.modelStatuses(account, now),
				ejections: table.counter(slot, "ejections"),
				attempts: table.counter(slot, "attempts"),
				successes: table.counter(slot, "successes"),
				failures: table.counter(slot, "failures"),
				cooldowns: table.counter(slot, "cooldowns"),
			};
		});
	}
}

/**
 * How long an account (or lane) stays blocked by ejection or cooldown, in epoch ms
 * (`now` or earlier = not blocked); -1 when it is held back by the upstream's own retry-after.
 */
function blockedUntil(table: AccountStateTable, slot: number, now: number): number {
	const cooldownUntil = table.cooldownUntil(slot);
	if (cooldownUntil > now && table.cooldownHinted(slot)) return -1;
	return Math.max(cooldownUntil, table.ejectedUntil(slot), now);
}
