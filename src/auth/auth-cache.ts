/**
 * The per-worker auth cache, keyed by the SHA-256 of the presented key (never the key itself).
 *
 * - Positive entries live `positiveTtlMs` (fresh), then may still be served for up to
 *   `maxStaleMs` when the database cannot be reached to refresh them (so a Postgres blip does
 *   not log every client out). Admin changes drop entries at once through the change bus.
 * - Negative entries ("no such key") are kept `negativeTtlMs` in a bounded map: the oldest is
 *   evicted first, so a flood of random keys cannot grow memory; together with the key-shape
 *   check in the authenticator it keeps junk keys off Postgres.
 *
 * Maps iterate in insertion order, so "evict the oldest" is deleting the first key.
 */

export interface AuthCacheOptions {
	positiveTtlMs?: number;
	maxStaleMs?: number;
	negativeTtlMs?: number;
	maxPositive?: number;
	maxNegative?: number;
	now?: () => number;
}

interface Positive<V> {
	value: V;
	storedAt: number;
	id: string | null;
}

export type CacheLookup<V> = { kind: "positive"; value: V; fresh: boolean } | { kind: "negative" } | { kind: "miss" };

const MISS = { kind: "miss" } as const;
const NEGATIVE = { kind: "negative" } as const;

export class AuthCache<V> {
	readonly positiveTtlMs: number;
	readonly maxStaleMs: number;
	readonly negativeTtlMs: number;
	readonly maxPositive: number;
	readonly maxNegative: number;
	private readonly now: () => number;
	private readonly positive = new Map<string, Positive<V>>();
	private readonly negative = new Map<string, number>();
	/** Key id → cache hashes, so an admin change by id can drop the entry. */
	private readonly byId = new Map<string, Set<string>>();

	constructor(opts: AuthCacheOptions = {}) {
		this.positiveTtlMs = opts.positiveTtlMs ?? 60_000;
		this.maxStaleMs = Math.max(this.positiveTtlMs, opts.maxStaleMs ?? 10 * 60_000);
		this.negativeTtlMs = opts.negativeTtlMs ?? 30_000;
		this.maxPositive = opts.maxPositive ?? 100_000;
		this.maxNegative = opts.maxNegative ?? 10_000;
		this.now = opts.now ?? Date.now;
	}

	get size(): { positive: number; negative: number } {
		return { positive: this.positive.size, negative: this.negative.size };
	}

	get(hash: string): CacheLookup<V> {
		const now = this.now();
		const p = this.positive.get(hash);
		if (p) {
			const age = now - p.storedAt;
			if (age <= this.positiveTtlMs) return { kind: "positive", value: p.value, fresh: true };
			if (age <= this.maxStaleMs) return { kind: "positive", value: p.value, fresh: false };
			this.deletePositive(hash);
		}
		const until = this.negative.get(hash);
		if (until !== undefined) {
			if (until > now) return NEGATIVE;
			this.negative.delete(hash);
		}
		return MISS;
	}

	setPositive(hash: string, value: V, id: string | null = null): void {
		this.negative.delete(hash);
		this.deletePositive(hash);
		while (this.positive.size >= this.maxPositive) {
			const oldest = this.positive.keys().next().value as string;
			this.deletePositive(oldest);
		}
		this.positive.set(hash, { value, storedAt: this.now(), id });
		if (id !== null) {
			const set = this.byId.get(id);
			if (set) set.add(hash);
			else this.byId.set(id, new Set([hash]));
		}
	}

	setNegative(hash: string): void {
		this.deletePositive(hash);
		this.negative.delete(hash);
		while (this.negative.size >= this.maxNegative) {
			this.negative.delete(this.negative.keys().next().value as string);
		}
		this.negative.set(hash, this.now() + this.negativeTtlMs);
	}

	/** Drops whatever is cached for a key id (PATCH / DELETE of that key). */
	dropId(id: string): void {
		const hashes = this.byId.get(id);
		if (!hashes) return;
		for (const h of [...hashes]) this.deletePositive(h);
	}

	/** Drops every entry (tenant limits changed, or a new key could match a negative entry). */
	clear(): void {
		this.positive.clear();
		this.negative.clear();
		this.byId.clear();
	}

	clearNegative(): void {
		this.negative.clear();
	}

	private deletePositive(hash: string): void {
		const p = this.positive.get(hash);
		if (!p) return;
		this.positive.delete(hash);
		if (p.id !== null) {
			const set = this.byId.get(p.id);
			set?.delete(hash);
			if (set && set.size === 0) this.byId.delete(p.id);
		}
	}
}
