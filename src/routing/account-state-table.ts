import { fnv1a32 } from "./hash32.ts";

/**
 * Per-account live state shared by every HTTP worker through one SharedArrayBuffer.
 *
 * Layout (all offsets fixed by `capacity`, so `fromBuffer` needs nothing else):
 *
 *   header   Int32 × 80   magic, version, capacity, then 64 round-robin counters
 *   slots    Int32 × 16 per slot   allocation + counters (see I32 below)
 *   times    BigInt64 × 8 per slot epoch-ms deadlines, since-times and error windows (see I64)
 *   keys     128 bytes per slot    the account key that owns the slot
 *
 * Every field is read and written with `Atomics`; read-modify-writes are CAS loops.
 * Nothing blocks except `allocate`, which may spin for the few instructions another
 * thread needs to finish writing a key it has just claimed.
 *
 * Slot allocation is a lock-free open-addressing table keyed by FNV-1a of the key,
 * with linear probing: a thread claims an empty slot with CAS (EMPTY → CLAIMING),
 * writes the key bytes, then publishes it (→ READY). Others compare the full key, not
 * just the hash, so colliding keys get distinct slots. Any worker can therefore add an
 * account at runtime and every worker resolves the same key to the same slot. Slots are
 * never freed: removing an account leaves its slot (and stats) in place, and adding the
 * same key again reuses it.
 *
 * Deadlines (ejected_until, cooldown_until, probe lease) are epoch milliseconds in a
 * BigInt64Array: an Int32 relative clock would wrap within a month of uptime.
 * The TTFT EWMA is an Int32 of microseconds updated by CAS (0 = no sample yet), which
 * keeps it a single atomic word instead of a Float64 behind a seqlock.
 */

export const DEFAULT_MAX_ACCOUNTS = 1024;

/** Longest key stored verbatim; longer keys keep a prefix plus a SHA-256 digest. */
export const MAX_KEY_BYTES = 128;

const MAGIC = 0x49584348; // "IXCH"
const VERSION = 2;

const HEADER_WORDS = 80;
const H_MAGIC = 0;
const H_VERSION = 1;
const H_CAPACITY = 2;
/** Bumped on every slot claim, so a worker's "no slot for this key" cache knows when it is stale. */
const H_GENERATION = 3;
const H_ROUND_ROBIN = 16;
/** Round-robin counters; callers pick one by hashing what they rotate over. */
export const ROUND_ROBIN_COUNTERS = 64;

const I32_STRIDE = 16;
const I32 = {
	alloc: 0,
	keyHash: 1,
	keyLen: 2,
	inflight: 3,
	ewmaTtftUs: 4,
	consecutiveFailures: 5,
	ejectionStreak: 6,
	/** 0 = enabled, else the upstream status that disabled it (401/403). */
	disabled: 7,
	// Metrics counters (monotonic, read as uint32).
	attempts: 8,
	successes: 9,
	failures: 10,
	ejections: 11,
	cooldowns: 12,
	disables: 13,
	/** 1 when the current cooldown came from the upstream's own retry-after, else 0. */
	cooldownHinted: 14,
	/** Free for the table's user: model-lanes.ts counts an account's lanes here. */
	userCounter: 15,
} as const;

const I64_STRIDE = 8;
const I64 = {
	ejectedUntil: 0,
	cooldownUntil: 1,
	probeUntil: 2,
	/** Error windows: (epoch << 32) | (ok << 16) | err, bucket = epoch & 1. */
	window0: 3,
	/** Epoch ms each state began, for the admin view and the logs (0 = never). */
	disabledSince: 5,
	cooldownSince: 6,
	ejectedSince: 7,
} as const;

const ALLOC_EMPTY = 0;
const ALLOC_CLAIMING = 1;
const ALLOC_READY = 2;

const WINDOW_COUNT_MAX = 0xffff;

/** Monotonic per-slot counters exposed for metrics. */
export type SlotCounter = "attempts" | "successes" | "failures" | "ejections" | "cooldowns" | "disables";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The canonical key of an account: unique per provider. */
export function accountKey(provider: string, name: string): string {
	return `${provider}/${name}`;
}

function keyIdentity(key: string): Uint8Array {
	const bytes = encoder.encode(key);
	if (bytes.length <= MAX_KEY_BYTES) return bytes;
	// Keep a readable prefix and make the tail collision-resistant.
	const digest = new Bun.CryptoHasher("sha256").update(bytes).digest();
	const out = new Uint8Array(MAX_KEY_BYTES);
	out.set(bytes.subarray(0, MAX_KEY_BYTES - digest.length));
	out.set(digest, MAX_KEY_BYTES - digest.length);
	return out;
}

function toMs(value: number): bigint {
	return BigInt(Math.floor(value));
}

export class AccountStateTable {
	readonly buffer: SharedArrayBuffer;
	readonly capacity: number;
	private readonly i32: Int32Array;
	private readonly i64: BigInt64Array;
	private readonly keys: Uint8Array;
	private readonly slotsBase: number;

	/** A fresh, zeroed table for `capacity` accounts. Share it with `.buffer`. */
	static create(capacity: number = DEFAULT_MAX_ACCOUNTS): AccountStateTable {
		if (!Number.isInteger(capacity) || capacity < 1) {
			throw new RangeError(`account table capacity must be a positive integer, got ${capacity}`);
		}
		const buffer = new SharedArrayBuffer(AccountStateTable.byteLength(capacity));
		const header = new Int32Array(buffer, 0, HEADER_WORDS);
		header[H_MAGIC] = MAGIC;
		header[H_VERSION] = VERSION;
		header[H_CAPACITY] = capacity;
		return new AccountStateTable(buffer);
	}

	/** Attach to a table another thread created (e.g. received via postMessage). */
	static fromBuffer(buffer: SharedArrayBuffer): AccountStateTable {
		return new AccountStateTable(buffer);
	}

	static byteLength(capacity: number): number {
		return HEADER_WORDS * 4 + capacity * (I32_STRIDE * 4 + I64_STRIDE * 8 + MAX_KEY_BYTES);
	}

	private constructor(buffer: SharedArrayBuffer) {
		const header = new Int32Array(buffer, 0, HEADER_WORDS);
		if (header[H_MAGIC] !== MAGIC || header[H_VERSION] !== VERSION) {
			throw new TypeError("buffer is not an account state table");
		}
		const capacity = header[H_CAPACITY];
		if (buffer.byteLength !== AccountStateTable.byteLength(capacity)) {
			throw new TypeError("account state table buffer has the wrong size");
		}
		this.buffer = buffer;
		this.capacity = capacity;
		this.slotsBase = HEADER_WORDS;
		this.i32 = new Int32Array(buffer, 0, HEADER_WORDS + capacity * I32_STRIDE);
		const i64Offset = (HEADER_WORDS + capacity * I32_STRIDE) * 4;
		this.i64 = new BigInt64Array(buffer, i64Offset, capacity * I64_STRIDE);
		const keysOffset = i64Offset + capacity * I64_STRIDE * 8;
		this.keys = new Uint8Array(buffer, keysOffset, capacity * MAX_KEY_BYTES);
	}

	// ── slot allocation ────────────────────────────────────────────────────────

	/** The slot owned by `key`, claiming one if none does yet. Same answer in every worker. */
	/** The slot of a provider's account, allocated on first use. */
	slotFor(provider: string, account: string): number {
		return this.allocate(accountKey(provider, account));
	}

	allocate(key: string): number {
		const slot = this.find(key, true);
		if (slot < 0) throw new RangeError(`account state table is full (${this.capacity} slots)`);
		return slot;
	}

	/** The slot owned by `key`, or -1. */
	lookup(key: string): number {
		return this.find(key, false);
	}

	/** The key stored in a slot (lossy for keys over MAX_KEY_BYTES), or null if unallocated. */
	keyOf(slot: number): string | null {
		const base = this.base(slot);
		if (Atomics.load(this.i32, base + I32.alloc) !== ALLOC_READY) return null;
		const len = this.i32[base + I32.keyLen];
		const start = slot * MAX_KEY_BYTES;
		return decoder.decode(this.keys.slice(start, start + len));
	}

	private find(key: string, claim: boolean): number {
		const id = keyIdentity(key);
		const hash = fnv1a32(id) | 0;
		for (let probe = 0; probe < this.capacity; probe++) {
			const slot = ((hash >>> 0) + probe) % this.capacity;
			const base = this.base(slot);
			const allocIdx = base + I32.alloc;
			let state = Atomics.load(this.i32, allocIdx);
			if (state === ALLOC_EMPTY) {
				if (!claim) return -1;
				if (Atomics.compareExchange(this.i32, allocIdx, ALLOC_EMPTY, ALLOC_CLAIMING) === ALLOC_EMPTY) {
					this.keys.set(id, slot * MAX_KEY_BYTES);
					this.i32[base + I32.keyLen] = id.length;
					this.i32[base + I32.keyHash] = hash;
					// The READY store publishes the plain writes above to every reader.
					Atomics.store(this.i32, allocIdx, ALLOC_READY);
					Atomics.notify(this.i32, allocIdx);
					Atomics.add(this.i32, H_GENERATION, 1);
					return slot;
				}
				state = Atomics.load(this.i32, allocIdx);
			}
			while (state === ALLOC_CLAIMING) {
				// The claimer is a few plain stores away from READY.
				Atomics.wait(this.i32, allocIdx, ALLOC_CLAIMING, 1);
				state = Atomics.load(this.i32, allocIdx);
			}
			if (this.i32[base + I32.keyHash] === hash && this.keyEquals(slot, id)) return slot;
		}
		return -1;
	}

	/** Changes whenever a slot is claimed: a cached negative `lookup` is valid while it stays the same. */
	generation(): number {
		return Atomics.load(this.i32, H_GENERATION);
	}

	private keyEquals(slot: number, id: Uint8Array): boolean {
		const base = this.base(slot);
		if (this.i32[base + I32.keyLen] !== id.length) return false;
		const start = slot * MAX_KEY_BYTES;
		for (let i = 0; i < id.length; i++) {
			if (this.keys[start + i] !== id[i]) return false;
		}
		return true;
	}

	private base(slot: number): number {
		return this.slotsBase + slot * I32_STRIDE;
	}

	// ── in-flight ──────────────────────────────────────────────────────────────

	inflight(slot: number): number {
		return Atomics.load(this.i32, this.base(slot) + I32.inflight);
	}

	/** Take one in-flight unit unless that would exceed `max` (0 = unlimited). */
	tryAcquire(slot: number, max: number): boolean {
		const idx = this.base(slot) + I32.inflight;
		if (max <= 0) {
			Atomics.add(this.i32, idx, 1);
			return true;
		}
		for (;;) {
			const current = Atomics.load(this.i32, idx);
			if (current >= max) return false;
			if (Atomics.compareExchange(this.i32, idx, current, current + 1) === current) return true;
		}
	}

	/** Give back one in-flight unit; never goes below zero. */
	release(slot: number): void {
		const idx = this.base(slot) + I32.inflight;
		for (;;) {
			const current = Atomics.load(this.i32, idx);
			if (current <= 0) return;
			if (Atomics.compareExchange(this.i32, idx, current, current - 1) === current) return;
		}
	}

	// ── time to first token ───────────────────────────────────────────────────

	/** EWMA of time to first token in microseconds; 0 = no sample yet. */
	ewmaTtftUs(slot: number): number {
		return Atomics.load(this.i32, this.base(slot) + I32.ewmaTtftUs);
	}

	updateEwmaTtft(slot: number, sampleMs: number, alpha: number): void {
		const idx = this.base(slot) + I32.ewmaTtftUs;
		const sampleUs = Math.min(0x7fffffff, Math.max(1, Math.round(sampleMs * 1000)));
		for (;;) {
			const current = Atomics.load(this.i32, idx);
			const next = current === 0 ? sampleUs : Math.max(1, Math.round(current + alpha * (sampleUs - current)));
			if (Atomics.compareExchange(this.i32, idx, current, next) === current) return;
		}
	}

	// ── consecutive failures and ejection ─────────────────────────────────────

	consecutiveFailures(slot: number): number {
		return Atomics.load(this.i32, this.base(slot) + I32.consecutiveFailures);
	}

	/** Returns the new count. */
	incrementConsecutiveFailures(slot: number): number {
		return Atomics.add(this.i32, this.base(slot) + I32.consecutiveFailures, 1) + 1;
	}

	resetConsecutiveFailures(slot: number): void {
		Atomics.store(this.i32, this.base(slot) + I32.consecutiveFailures, 0);
	}

	/** Ejections since the account last proved healthy; drives the backoff exponent. */
	ejectionStreak(slot: number): number {
		return Atomics.load(this.i32, this.base(slot) + I32.ejectionStreak);
	}

	setEjectionStreak(slot: number, value: number): void {
		Atomics.store(this.i32, this.base(slot) + I32.ejectionStreak, value);
	}

	incrementEjectionStreak(slot: number): number {
		return Atomics.add(this.i32, this.base(slot) + I32.ejectionStreak, 1) + 1;
	}

	/** Epoch ms the ejection ends; 0 = not ejected. Past but non-zero = half-open. */
	ejectedUntil(slot: number): number {
		return Number(Atomics.load(this.i64, slot * I64_STRIDE + I64.ejectedUntil));
	}

	casEjectedUntil(slot: number, expected: number, next: number): boolean {
		const want = toMs(expected);
		return Atomics.compareExchange(this.i64, slot * I64_STRIDE + I64.ejectedUntil, want, toMs(next)) === want;
	}

	/** Epoch ms the current (or last) ejection began; 0 = never ejected. */
	ejectedSince(slot: number): number {
		return Number(Atomics.load(this.i64, slot * I64_STRIDE + I64.ejectedSince));
	}

	setEjectedSince(slot: number, at: number): void {
		Atomics.store(this.i64, slot * I64_STRIDE + I64.ejectedSince, toMs(at));
	}

	// ── cooldown (upstream rate limit) ─────────────────────────────────────────

	/** Epoch ms the cooldown ends; 0 = none. */
	cooldownUntil(slot: number): number {
		return Number(Atomics.load(this.i64, slot * I64_STRIDE + I64.cooldownUntil));
	}

	/** Epoch ms the current (or last) cooldown began. */
	cooldownSince(slot: number): number {
		return Number(Atomics.load(this.i64, slot * I64_STRIDE + I64.cooldownSince));
	}

	/** Whether the current cooldown's length came from the upstream's retry-after. */
	cooldownHinted(slot: number): boolean {
		return Atomics.load(this.i32, this.base(slot) + I32.cooldownHinted) !== 0;
	}

	/**
	 * Move the cooldown end to `until` if that is later, remembering whether the upstream set
	 * it and when it began (`now`). Returns true when it moved.
	 */
	extendCooldown(slot: number, until: number, now: number = Date.now(), hinted = false): boolean {
		const idx = slot * I64_STRIDE + I64.cooldownUntil;
		const next = toMs(until);
		for (;;) {
			const current = Atomics.load(this.i64, idx);
			if (current >= next) return false;
			if (Atomics.compareExchange(this.i64, idx, current, next) === current) {
				// a cooldown that had lapsed starts a new one; an extended one keeps its start
				if (Number(current) <= now) Atomics.store(this.i64, slot * I64_STRIDE + I64.cooldownSince, toMs(now));
				Atomics.store(this.i32, this.base(slot) + I32.cooldownHinted, hinted ? 1 : 0);
				return true;
			}
		}
	}

	clearCooldown(slot: number): void {
		Atomics.store(this.i64, slot * I64_STRIDE + I64.cooldownUntil, 0n);
	}

	// ── half-open probe lease ──────────────────────────────────────────────────

	/**
	 * The probe "flag" is a lease (epoch ms it lapses, 0 = free) so a probe whose
	 * request vanished without reporting an outcome cannot wedge the account forever.
	 */
	tryAcquireProbe(slot: number, now: number, leaseMs: number): boolean {
		const idx = slot * I64_STRIDE + I64.probeUntil;
		const nowMs = toMs(now);
		const current = Atomics.load(this.i64, idx);
		if (current !== 0n && current > nowMs) return false;
		return Atomics.compareExchange(this.i64, idx, current, nowMs + toMs(leaseMs)) === current;
	}

	probeUntil(slot: number): number {
		return Number(Atomics.load(this.i64, slot * I64_STRIDE + I64.probeUntil));
	}

	releaseProbe(slot: number): void {
		Atomics.store(this.i64, slot * I64_STRIDE + I64.probeUntil, 0n);
	}

	// ── disabled (upstream auth failure) ───────────────────────────────────────

	/** 0 = enabled, else the upstream status that disabled the account. */
	disabledStatus(slot: number): number {
		return Atomics.load(this.i32, this.base(slot) + I32.disabled);
	}

	/** Returns true if this call flipped it from enabled; that call also records when (`now`). */
	disable(slot: number, status: number, now: number = Date.now()): boolean {
		const value = status > 0 ? status : 1;
		if (Atomics.compareExchange(this.i32, this.base(slot) + I32.disabled, 0, value) !== 0) return false;
		Atomics.store(this.i64, slot * I64_STRIDE + I64.disabledSince, toMs(now));
		return true;
	}

	/** Epoch ms the account was disabled; meaningful only while it is. */
	disabledSince(slot: number): number {
		return Number(Atomics.load(this.i64, slot * I64_STRIDE + I64.disabledSince));
	}

	enable(slot: number): void {
		Atomics.store(this.i32, this.base(slot) + I32.disabled, 0);
	}

	// ── a counter the table's user owns ────────────────────────────────────────

	userCounter(slot: number): number {
		return Atomics.load(this.i32, this.base(slot) + I32.userCounter);
	}

	/** Adds `by` and returns the new value. */
	addUserCounter(slot: number, by: number): number {
		return Atomics.add(this.i32, this.base(slot) + I32.userCounter, by) + by;
	}

	// ── metrics counters ───────────────────────────────────────────────────────

	increment(slot: number, counter: SlotCounter): void {
		Atomics.add(this.i32, this.base(slot) + I32[counter], 1);
	}

	counter(slot: number, counter: SlotCounter): number {
		return Atomics.load(this.i32, this.base(slot) + I32[counter]) >>> 0;
	}

	// ── decaying error ratio: two tumbling windows read as a sliding one ───────

	/**
	 * Count one result in window `epoch`. The window's epoch and both counts share one
	 * 64-bit word, so rolling over to a new window and counting are a single CAS: no
	 * update is lost at the boundary. Counts halve together when one saturates, which
	 * keeps the ratio.
	 */
	recordResult(slot: number, ok: boolean, epoch: number): void {
		const idx = slot * I64_STRIDE + I64.window0 + (epoch & 1);
		const epochBig = BigInt(epoch);
		for (;;) {
			const current = Atomics.load(this.i64, idx);
			let okCount = 0;
			let errCount = 0;
			if (current >> 32n === epochBig) {
				okCount = Number((current >> 16n) & 0xffffn);
				errCount = Number(current & 0xffffn);
			}
			if (ok) okCount++;
			else errCount++;
			if (okCount > WINDOW_COUNT_MAX || errCount > WINDOW_COUNT_MAX) {
				okCount = Math.ceil(okCount / 2);
				errCount = Math.ceil(errCount / 2);
			}
			const next = (epochBig << 32n) | (BigInt(okCount) << 16n) | BigInt(errCount);
			if (Atomics.compareExchange(this.i64, idx, current, next) === current) return;
		}
	}

	/**
	 * Error ratio over the current window plus the previous one weighted by
	 * `previousWeight` (the share of it still inside a sliding window). 0 with no data.
	 */
	errorRatio(slot: number, epoch: number, previousWeight: number): number {
		const base = slot * I64_STRIDE + I64.window0;
		const cur = Atomics.load(this.i64, base + (epoch & 1));
		const prev = Atomics.load(this.i64, base + ((epoch + 1) & 1));
		let ok = 0;
		let err = 0;
		if (Number(cur >> 32n) === epoch) {
			ok += Number((cur >> 16n) & 0xffffn);
			err += Number(cur & 0xffffn);
		}
		if (Number(prev >> 32n) === epoch - 1) {
			ok += Number((prev >> 16n) & 0xffffn) * previousWeight;
			err += Number(prev & 0xffffn) * previousWeight;
		}
		const total = ok + err;
		return total > 0 ? err / total : 0;
	}

	// ── round robin ─────────────────────────────────────────────────────────────

	/** Next ticket of a global (cross-worker) round-robin counter, as a uint32. */
	nextRoundRobin(counter: number): number {
		const idx = H_ROUND_ROBIN + (((counter % ROUND_ROBIN_COUNTERS) + ROUND_ROBIN_COUNTERS) % ROUND_ROBIN_COUNTERS);
		return Atomics.add(this.i32, idx, 1) >>> 0;
	}

	/**
	 * Forget a slot's health (latency, failures, ejection, cooldown, error windows).
	 * The disabled flag and the counters stay: those are monotonic or admin-owned.
	 */
	resetHealth(slot: number): void {
		const base = this.base(slot);
		Atomics.store(this.i32, base + I32.ewmaTtftUs, 0);
		Atomics.store(this.i32, base + I32.consecutiveFailures, 0);
		Atomics.store(this.i32, base + I32.ejectionStreak, 0);
		Atomics.store(this.i32, base + I32.cooldownHinted, 0);
		const base64 = slot * I64_STRIDE;
		for (let i = 0; i < I64_STRIDE; i++) {
			if (i !== I64.disabledSince) Atomics.store(this.i64, base64 + i, 0n);
		}
	}
}
