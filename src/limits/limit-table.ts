/**
 * The shared per-subject limit state: one SharedArrayBuffer that every HTTP worker maps, laid
 * out as a fixed header and a lock-free open-addressing hash table of 64-byte slots.
 *
 * A subject (API key id, tenant id, …) is hashed to 64 bits; its slot is found by linear
 * probing from `hash & (capacity - 1)` and claimed with one compare-and-swap of the slot's hash
 * word from 0 to the hash. Slots are never freed, so once a worker has seen a subject's slot the
 * answer is final and it is cached per worker. Two workers racing to insert the same subject
 * both see the same hash win the CAS and land in the same slot, with no coordination.
 *
 * Full table: `slotFor` answers -1 and calls `onFull` (the loud log hook; also counted in
 * `stats().fullMisses`). The limiter treats -1 as "fail open": the request is served without
 * per-subject limits rather than taking the whole gateway down for new keys. Size the table to
 * at least twice the number of keys plus tenants (load under 50% keeps probes short).
 */

/** Words (64-bit) per slot: one cache line. */
export const SLOT_WORDS = 8;
/** Word offsets inside a slot. */
export const SlotField = {
	hash: 0,
	rpm: 1,
	tpm: 2,
	dailyRequests: 3,
	dailyTokens: 4,
	spentMicroUsd: 5,
	/** Two Int32 cells: in-flight count (int index 2*6) and waiting count (2*6 + 1). */
	concurrency: 6,
	/** Spend of the current budget period (day, week, month), stamped like the daily counters. */
	periodMicroUsd: 7,
} as const;

const HEADER_WORDS = 8;
const H_MAGIC = 0;
const H_CAPACITY = 1;
const H_EPOCH = 2;
const H_USED = 3;
const H_FULL_MISSES = 4;
const MAGIC = 0x49584c4d54310003n; // "IXLMT1" + layout version

export const DEFAULT_TABLE_CAPACITY = 65_536;
/** Per-worker subject → slot cache bound; cleared wholesale when reached (slots never move). */
const CACHE_LIMIT = 200_000;
const HASH_SEED = 0x1f2e3d4cn;

export interface LimitTableOptions {
	/** Number of slots, a power of two. Default 65,536 (4 MiB). */
	capacity?: number;
	/** Called when a subject cannot be placed because every slot is taken. */
	onFull?: (subject: string) => void;
	/** Epoch for bucket clocks; only for tests. Default `Date.now()` at creation. */
	epochMs?: number;
}

export interface LimitTableStats {
	capacity: number;
	used: number;
	fullMisses: number;
}

/** 64-bit hash of a subject, never 0 (0 marks an empty slot). */
export function hashSubject(subject: string): bigint {
	const h = BigInt.asIntN(64, Bun.hash.wyhash(subject, HASH_SEED));
	return h === 0n ? 1n : h;
}

export function tableByteLength(capacity: number): number {
	return (HEADER_WORDS + capacity * SLOT_WORDS) * 8;
}

export class LimitTable {
	readonly buffer: SharedArrayBuffer;
	readonly capacity: number;
	/** Wall-clock ms that bucket clocks count from (shared by every worker). */
	readonly epochMs: number;
	/** 64-bit view of the whole buffer. */
	readonly words: BigInt64Array;
	/** 32-bit view of the same buffer (concurrency counters, Atomics.waitAsync). */
	readonly ints: Int32Array;
	private readonly mask: number;
	private readonly cache = new Map<string, number>();
	private readonly onFull?: (subject: string) => void;

	/** Creates a new table, or maps an existing buffer (as another worker passed it). */
	constructor(source?: SharedArrayBuffer | LimitTableOptions, options: LimitTableOptions = {}) {
		const opts = source instanceof SharedArrayBuffer ? options : (source ?? {});
		this.onFull = opts.onFull;
		if (source instanceof SharedArrayBuffer) {
			this.buffer = source;
			this.words = new BigInt64Array(source);
			if (this.words.length < HEADER_WORDS || Atomics.load(this.words, H_MAGIC) !== MAGIC) {
				throw new Error("LimitTable: buffer is not a limit table (bad magic)");
			}
			this.capacity = Number(this.words[H_CAPACITY]);
			this.epochMs = Number(this.words[H_EPOCH]);
			if (source.byteLength !== tableByteLength(this.capacity)) {
				throw new Error("LimitTable: buffer size does not match its capacity");
			}
		} else {
			const capacity = opts.capacity ?? DEFAULT_TABLE_CAPACITY;
			if (!Number.isInteger(capacity) || capacity < 2 || (capacity & (capacity - 1)) !== 0) {
				throw new Error(`LimitTable: capacity must be a power of two ≥ 2, got ${capacity}`);
			}
			this.capacity = capacity;
			this.epochMs = Math.floor(opts.epochMs ?? Date.now());
			this.buffer = new SharedArrayBuffer(tableByteLength(capacity));
			this.words = new BigInt64Array(this.buffer);
			this.words[H_CAPACITY] = BigInt(capacity);
			this.words[H_EPOCH] = BigInt(this.epochMs);
			Atomics.store(this.words, H_MAGIC, MAGIC);
		}
		this.ints = new Int32Array(this.buffer);
		this.mask = this.capacity - 1;
	}

	/** Maps a buffer created by another thread's `new LimitTable()`. */
	static fromBuffer(buffer: SharedArrayBuffer, options: LimitTableOptions = {}): LimitTable {
		return new LimitTable(buffer, options);
	}

	/** Index in `words` of a slot's field. */
	wordIndex(slot: number, field: number): number {
		return HEADER_WORDS + slot * SLOT_WORDS + field;
	}

	/** The subject's slot, claiming one if it has none; -1 when the table is full. */
	slotFor(subject: string): number {
		const cached = this.cache.get(subject);
		if (cached !== undefined) return cached;
		const slot = this.probe(subject, true);
		if (slot < 0) {
			Atomics.add(this.words, H_FULL_MISSES, 1n);
			this.onFull?.(subject);
			return -1;
		}
		this.remember(subject, slot);
		return slot;
	}

	/** The subject's slot if some worker has claimed one, else -1. Never inserts. */
	find(subject: string): number {
		const cached = this.cache.get(subject);
		if (cached !== undefined) return cached;
		const slot = this.probe(subject, false);
		if (slot >= 0) this.remember(subject, slot);
		return slot;
	}

	stats(): LimitTableStats {
		return {
			capacity: this.capacity,
			used: Number(Atomics.load(this.words, H_USED)),
			fullMisses: Number(Atomics.load(this.words, H_FULL_MISSES)),
		};
	}

	private probe(subject: string, insert: boolean): number {
		const hash = hashSubject(subject);
		const words = this.words;
		let i = Number(hash & BigInt(this.mask));
		for (let n = 0; n < this.capacity; n++) {
			const at = HEADER_WORDS + i * SLOT_WORDS;
			const seen = Atomics.load(words, at);
			if (seen === hash) return i;
			if (seen === 0n) {
				if (!insert) return -1;
				const prev = Atomics.compareExchange(words, at, 0n, hash);
				if (prev === 0n) {
					Atomics.add(words, H_USED, 1n);
					return i;
				}
				// Lost the race: whoever won may have inserted this very subject.
				if (prev === hash) return i;
			}
			i = (i + 1) & this.mask;
		}
		return -1;
	}

	private remember(subject: string, slot: number): void {
		if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
		this.cache.set(subject, slot);
	}
}
