import type { RoutingStrategy } from "../config/types.ts";
import type { AccountRef } from "../providers/account-ref.ts";
import type { AccountHealth } from "./account-health.ts";
import type { AccountStateTable } from "./account-state-table.ts";

/**
 * Strategies choose among candidates the pool has already filtered (serving the model,
 * healthy, under their concurrency cap), kept in configuration order. Each is plain
 * arithmetic over a few shared-memory slots and returns an index into `candidates`.
 */
export interface StrategyContext {
	readonly table: AccountStateTable;
	readonly health: AccountHealth;
	/** Each candidate's (account, model) lane, -1 = none; read with `laneHealth`. */
	readonly lanes: Int32Array;
	readonly laneHealth: AccountHealth | null;
	readonly now: number;
	/** Uniform in [0, 1). */
	readonly random: () => number;
	/** Which shared round-robin counter to advance (see AccountStateTable.nextRoundRobin). */
	readonly roundRobinCounter: number;
}

export type Strategy = (candidates: readonly AccountRef[], count: number, ctx: StrategyContext) => number;

/** Concurrency an unlimited account (max_concurrency = 0) is scored as having. */
export const UNLIMITED_CAPACITY = 100;

/** Lowest health factor, so a weight never scores zero from errors alone. */
export const MIN_HEALTH_FACTOR = 0.01;

export function effectiveCapacity(account: AccountRef): number {
	return account.maxConcurrency > 0 ? account.maxConcurrency : UNLIMITED_CAPACITY;
}

/**
 * weight × max(0.01, (1 − error_ratio)²) ÷ (1 + inflight / capacity)
 *
 * Squaring the success share makes a 30 % error rate halve an account's traffic while
 * a few stray errors barely matter; the load term shifts traffic off an account as it
 * fills, before it reaches its cap.
 */
export function weightedScore(account: AccountRef, inflight: number, errorRatio: number): number {
	const weight = Math.max(account.weight, 0) || 0;
	const success = 1 - errorRatio;
	const health = Math.max(MIN_HEALTH_FACTOR, success * success);
	return (weight * health) / (1 + inflight / effectiveCapacity(account));
}

function pickIndex(random: () => number, count: number): number {
	const index = Math.floor(random() * count);
	return Math.min(Math.max(index, 0), count - 1);
}

const firstAvailable: Strategy = () => 0;

const roundRobin: Strategy = (_candidates, count, ctx) => ctx.table.nextRoundRobin(ctx.roundRobinCounter) % count;

const random: Strategy = (_candidates, count, ctx) => pickIndex(ctx.random, count);

let scores = new Float64Array(16);

const weighted: Strategy = (candidates, count, ctx) => {
	if (scores.length < count) scores = new Float64Array(count * 2);
	let total = 0;
	for (let i = 0; i < count; i++) {
		const account = candidates[i];
		// the account's own errors (connection failures) and the model's on it both count
		const lane = ctx.lanes[i];
		const accountRatio = ctx.health.errorRatio(account.slot, ctx.now);
		const laneRatio = lane >= 0 && ctx.laneHealth !== null ? ctx.laneHealth.errorRatio(lane, ctx.now) : 0;
		const score = weightedScore(account, ctx.table.inflight(account.slot), Math.max(accountRatio, laneRatio));
		scores[i] = score;
		total += score;
	}
	// Every weight is 0: those accounts are standbys, share among them evenly.
	if (!(total > 0)) return pickIndex(ctx.random, count);
	let target = ctx.random() * total;
	for (let i = 0; i < count; i++) {
		target -= scores[i];
		if (target < 0) return i;
	}
	// Floating-point leftovers: the last account with a non-zero score.
	for (let i = count - 1; i > 0; i--) if (scores[i] > 0) return i;
	return 0;
};

/** Lowest TTFT EWMA; accounts with no sample yet come first so they get measured. */
const latency: Strategy = (candidates, count, ctx) => {
	let best = 0;
	let bestEwma = Number.POSITIVE_INFINITY;
	let bestInflight = Number.POSITIVE_INFINITY;
	for (let i = 0; i < count; i++) {
		const slot = candidates[i].slot;
		const stored = ctx.table.ewmaTtftUs(slot);
		const ewma = stored === 0 ? -1 : stored;
		if (ewma > bestEwma) continue;
		const inflight = ctx.table.inflight(slot);
		if (ewma < bestEwma || inflight < bestInflight) {
			best = i;
			bestEwma = ewma;
			bestInflight = inflight;
		}
	}
	return best;
};

/** Lowest in-flight / capacity; ties go to the earlier account in configuration order. */
const leastBusy: Strategy = (candidates, count, ctx) => {
	let best = 0;
	let bestLoad = Number.POSITIVE_INFINITY;
	for (let i = 0; i < count; i++) {
		const account = candidates[i];
		const load = ctx.table.inflight(account.slot) / effectiveCapacity(account);
		if (load < bestLoad) {
			best = i;
			bestLoad = load;
		}
	}
	return best;
};

/**
 * Healthiest first (lowest recent error ratio), then the latency strategy's order among the
 * equally healthy: unmeasured accounts first, then the lowest TTFT EWMA, then fewest in
 * flight. Ejected and cooling accounts are already out of `candidates`; this orders the rest.
 */
const availability: Strategy = (candidates, count, ctx) => {
	let best = 0;
	let bestRatio = Number.POSITIVE_INFINITY;
	let bestEwma = Number.POSITIVE_INFINITY;
	let bestInflight = Number.POSITIVE_INFINITY;
	for (let i = 0; i < count; i++) {
		const slot = candidates[i].slot;
		const ratio = ctx.health.errorRatio(slot, ctx.now);
		if (ratio > bestRatio) continue;
		const stored = ctx.table.ewmaTtftUs(slot);
		const ewma = stored === 0 ? -1 : stored;
		const inflight = ctx.table.inflight(slot);
		if (ratio === bestRatio && (ewma > bestEwma || (ewma === bestEwma && inflight >= bestInflight))) continue;
		best = i;
		bestRatio = ratio;
		bestEwma = ewma;
		bestInflight = inflight;
	}
	return best;
};

export const STRATEGIES: Readonly<Record<RoutingStrategy, Strategy>> = Object.freeze({
	first_available: firstAvailable,
	round_robin: roundRobin,
	random,
	weighted,
	latency,
	least_busy: leastBusy,
	availability,
});
