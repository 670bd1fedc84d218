import type { RedisLink } from "./redis-link.ts";
import { COUNTER_LEASE, COUNTER_SET, HEARTBEAT, RATE_GIVE, RATE_TAKE, SLOTS_ACQUIRE, SLOTS_SET } from "./scripts.ts";

/**
 * Fleet-wide limits, leased. Each holder (one per HTTP worker thread) takes capacity from Redis
 * in batches and spends it in memory, so a request normally costs no Redis round trip; a lease
 * runs low → it is topped up in the background; it sits unused → it goes back.
 *
 * Bounds, with Redis up: a holder spends only what Redis granted it, so request counts and
 * concurrency never pass their limit across the fleet. Token and dollar limits pass theirs only
 * by what requests use beyond their own reservation (settled as debt). Capacity leased by a
 * holder and not used yet is not available to others until it goes back: at most one lease per
 * holder and subject (`leaseFraction` of the limit), returned after `idleMs`, or at the window's
 * end for a killed instance. Slots of a killed instance come back when its heartbeat expires.
 *
 * With Redis away, each holder decides alone with its last known share (the limit divided by
 * the live holders last seen), so the fleet as a whole stays near the limit; when Redis is back,
 * each holder writes what it spent into the shared counters (they resynchronise) and leases anew.
 */

export type Grant = boolean | Promise<boolean>;
export type RateDim = "rpm" | "tpm";
export type CounterDim = "requests" | "tokens" | "micro_usd";

/** A counting window: its id (part of the key) and when it ends (epoch ms). */
export interface CountWindow {
	id: string;
	endsAt: number;
}

export interface FleetLeasesOptions {
	holder: string;
	/** Key prefix, so several gateways (or tests) can share one Redis. */
	prefix: string;
	/** Lease size as a fraction of the limit (at least 1 unit). */
	leaseFraction: number;
	/** Unused leases go back after this long without use. */
	idleMs: number;
	/** A holder that stopped beating for this long loses its slots. */
	holderTtlMs: number;
	now?: () => number;
}

interface Lease {
	readonly key: string;
	readonly kind: "rate" | "counter";
	/** Units granted by Redis and not spent (may run negative after a settle: debt). */
	remaining: number;
	/** Units this holder took in the window (counters: what it writes back on resync). */
	spent: number;
	/** Units Redis granted this holder in the window. */
	granted: number;
	refill: Promise<Refill> | null;
	/** Units wanted by requests waiting on a refill. */
	demand: number;
	lastUse: number;
	/** When the window ends (Infinity: rates, and counters that never reset). */
	endsAt: number;
	/** Rates while Redis is away: a local bucket at this holder's share. */
	offTokens: number;
	offTs: number;
}

interface Slots {
	readonly key: string;
	granted: number;
	inUse: number;
	refill: Promise<Refill> | null;
	demand: number;
	lastUse: number;
}

/** What one refill asked Redis for and got: less than asked = the fleet has no more. */
interface Refill {
	asked: number;
	got: number;
}

const MINUTE_MS = 60_000;

export class FleetLeases {
	private readonly link: RedisLink;
	private readonly opts: FleetLeasesOptions;
	private readonly now: () => number;
	private readonly leases = new Map<string, Lease>();
	private readonly slots = new Map<string, Slots>();
	private readonly liveKey: string;
	/** Live holders at the last heartbeat: this holder's share is 1 / live while Redis is away. */
	private live = 1;
	private timer: ReturnType<typeof setInterval> | null = null;

	constructor(link: RedisLink, opts: FleetLeasesOptions) {
		this.link = link;
		this.opts = opts;
		this.now = opts.now ?? Date.now;
		this.liveKey = `${opts.prefix}live`;
		link.onUp(() => void this.resync());
	}

	/** Heartbeat and idle returns, once a second (or faster for short idle settings). */
	start(): void {
		const every = Math.max(50, Math.min(1_000, this.opts.idleMs, this.opts.holderTtlMs / 3));
		this.timer = setInterval(() => void this.tick(), every);
		void this.tick();
	}

	async stop(): Promise<void> {
		if (this.timer) clearInterval(this.timer);
		this.timer = null;
		await this.returnIdle(true).catch(() => {});
	}

	get liveHolders(): number {
		return this.live;
	}

	/** The current UTC day as a counting window. */
	static day(now: number): CountWindow {
		const day = Math.floor(now / 86_400_000);
		return { id: `d${day}`, endsAt: (day + 1) * 86_400_000 };
	}

	takeRate(subject: string, dim: RateDim, limit: number, cost: number): Grant {
		const lease = this.lease(`${this.opts.prefix}r:${dim}:${subject}`, "rate", Number.POSITIVE_INFINITY);
		const refill = (want: number) =>
			this.link.eval(RATE_TAKE, [lease.key], [limit, limit / MINUTE_MS, want]).then((r) => Number((r as number[])[0]));
		return this.take(lease, limit, cost, refill, () => {
			const ok = this.offlineRate(lease, limit, cost);
			// Redis is up but answered late: what was spent alone is still taken from the bucket
			if (ok && this.link.up) this.link.eval(RATE_TAKE, [lease.key], [limit, limit / MINUTE_MS, cost]).catch(() => {});
			return ok;
		});
	}

	/** Settles a rate reservation: `delta` = actual − reserved. */
	settleRate(subject: string, dim: RateDim, limit: number, delta: number): void {
		const lease = this.leases.get(`${this.opts.prefix}r:${dim}:${subject}`);
		if (!lease || delta === 0) return;
		lease.remaining -= delta;
		lease.spent += delta;
		if (lease.remaining < 0 && this.link.up) {
			// usage beyond the reservation: take it from the shared bucket as far as it goes
			const debt = -lease.remaining;
			this.link
				.eval(RATE_TAKE, [lease.key], [limit, limit / MINUTE_MS, debt])
				.then((r) => {
					lease.remaining += Number((r as number[])[0]);
				})
				.catch(() => {});
		}
	}

	/**
	 * `base`: the window's usage as this instance knows it from Postgres, without this request;
	 * it seeds a counter Redis does not have yet (a new window, or a Redis that lost its data).
	 */
	takeCounter(
		subject: string,
		dim: CounterDim,
		window: CountWindow,
		limit: number,
		cost: number,
		base: () => number = () => 0,
	): Grant {
		const lease = this.lease(`${this.opts.prefix}c:${dim}:${window.id}:${subject}`, "counter", window.endsAt);
		const ttl = this.ttl(window.endsAt);
		const refill = (want: number) =>
			this.link
				.eval(COUNTER_LEASE, [lease.key], [this.opts.holder, limit, want, ttl, Math.max(0, Math.floor(base()))])
				.then((r) => Number((r as number[])[0]));
		return this.take(lease, limit, cost, refill, () => {
			const ok = this.offlineCounter(lease, limit, cost);
			// Redis is up but answered late: what was spent alone still counts for the fleet
			if (ok && this.link.up && lease.spent > lease.granted) {
				const over = lease.spent - lease.granted;
				lease.granted = lease.spent;
				this.link.eval(COUNTER_SET, [lease.key], [this.opts.holder, "add", over, ttl]).catch(() => {});
			}
			return ok;
		});
	}

	/** Settles a counter reservation: `delta` = actual − reserved (beyond the lease: debt). */
	settleCounter(subject: string, dim: CounterDim, window: CountWindow, delta: number): void {
		const lease = this.leases.get(`${this.opts.prefix}c:${dim}:${window.id}:${subject}`);
		if (!lease || delta === 0) return;
		lease.remaining -= delta;
		lease.spent += delta;
		if (lease.remaining < 0 && this.link.up) {
			const debt = -lease.remaining;
			lease.remaining = 0;
			lease.granted += debt;
			const ttl = this.ttl(lease.endsAt);
			this.link.eval(COUNTER_SET, [lease.key], [this.opts.holder, "add", debt, ttl]).catch(() => {});
		}
	}

	acquireSlot(subject: string, max: number): Grant {
		let s = this.slots.get(subject);
		if (!s) {
			s = { key: `${this.opts.prefix}s:${subject}`, granted: 0, inUse: 0, refill: null, demand: 0, lastUse: 0 };
			this.slots.set(subject, s);
		}
		const slots = s;
		slots.lastUse = this.now();
		if (slots.inUse < slots.granted) {
			slots.inUse++;
			return true;
		}
		if (!this.link.up) return this.offlineSlot(slots, max);
		const refill = (): Promise<Refill> => {
			if (slots.refill) return slots.refill;
			const asked = Math.max(1, slots.demand - (slots.granted - slots.inUse));
			slots.refill = this.link
				.eval(SLOTS_ACQUIRE, [slots.key, this.liveKey], [this.opts.holder, max, asked])
				.then((r) => {
					const got = Number((r as number[])[0]);
					slots.granted += got;
					return { asked, got };
				})
				.finally(() => {
					slots.refill = null;
				});
			return slots.refill;
		};
		return this.wait(
			slots,
			1,
			() => slots.inUse < slots.granted,
			() => {
				slots.inUse++;
			},
			refill,
			() => this.offlineSlot(slots, max),
		);
	}

	releaseSlot(subject: string): void {
		const s = this.slots.get(subject);
		if (s && s.inUse > 0) s.inUse--;
	}

	/** A counter key outlives its window by an hour; one that never resets lives a year past its last use. */
	private ttl(endsAt: number): number {
		return Number.isFinite(endsAt) ? Math.max(1_000, endsAt - this.now() + 3_600_000) : 366 * 86_400_000;
	}

	private lease(key: string, kind: Lease["kind"], endsAt: number): Lease {
		let l = this.leases.get(key);
		if (!l) {
			l = {
				key,
				kind,
				remaining: 0,
				spent: 0,
				granted: 0,
				refill: null,
				demand: 0,
				lastUse: 0,
				endsAt,
				offTokens: -1,
				offTs: 0,
			};
			this.leases.set(key, l);
		}
		return l;
	}

	private leaseSize(limit: number): number {
		return Math.max(1, Math.ceil(limit * this.opts.leaseFraction));
	}

	private take(
		lease: Lease,
		limit: number,
		cost: number,
		fetchMore: (want: number) => Promise<number>,
		offline: () => boolean,
	): Grant {
		lease.lastUse = this.now();
		const spend = () => {
			lease.remaining -= cost;
			lease.spent += cost;
		};
		if (lease.remaining >= cost) {
			spend();
			// top up before it runs dry, so the next requests find capacity in memory
			if (lease.remaining < this.leaseSize(limit) / 2 && this.link.up) {
				this.refill(lease, limit, fetchMore).catch(() => {});
			}
			return true;
		}
		if (!this.link.up) return offline();
		return this.wait(
			lease,
			cost,
			() => lease.remaining >= cost,
			spend,
			() => this.refill(lease, limit, fetchMore),
			offline,
		);
	}

	/** One refill in flight per lease, sized for every request waiting on it. */
	private refill(lease: Lease, limit: number, fetchMore: (want: number) => Promise<number>): Promise<Refill> {
		if (lease.refill) return lease.refill;
		const asked = Math.max(this.leaseSize(limit), lease.demand - lease.remaining);
		lease.refill = fetchMore(asked)
			.then((got) => {
				lease.remaining += got;
				lease.granted += got;
				return { asked, got };
			})
			.finally(() => {
				lease.refill = null;
			});
		return lease.refill;
	}

	/**
	 * A request the lease cannot cover waits for refills until it fits, or until Redis grants
	 * less than asked (the fleet has no more). A failed refill (Redis away or late) answers with
	 * this holder's share instead: no request waits on Redis longer than the link's deadline.
	 */
	private async wait(
		pool: { demand: number },
		cost: number,
		fits: () => boolean,
		take: () => void,
		refill: () => Promise<Refill>,
		offline: () => boolean,
	): Promise<boolean> {
		pool.demand += cost;
		try {
			for (;;) {
				if (fits()) {
					take();
					return true;
				}
				let r: Refill;
				try {
					r = await refill();
				} catch {
					return offline();
				}
				if (r.got < r.asked && !fits()) return false;
			}
		} finally {
			pool.demand -= cost;
		}
	}

	private share(limit: number): number {
		return Math.max(1, Math.ceil(limit / Math.max(1, this.live)));
	}

	private offlineCounter(lease: Lease, limit: number, cost: number): boolean {
		if (lease.spent + cost > Math.max(lease.granted, this.share(limit))) return false;
		lease.spent += cost;
		lease.remaining = Math.max(0, lease.granted - lease.spent);
		return true;
	}

	private offlineRate(lease: Lease, limit: number, cost: number): boolean {
		const now = this.now();
		const cap = this.share(limit);
		if (lease.offTokens < 0) {
			lease.offTokens = cap;
			lease.offTs = now;
		}
		lease.offTokens = Math.min(cap, lease.offTokens + ((now - lease.offTs) * cap) / MINUTE_MS);
		lease.offTs = now;
		if (lease.remaining >= cost) {
			lease.remaining -= cost;
			return true;
		}
		if (lease.offTokens < cost) return false;
		lease.offTokens -= cost;
		return true;
	}

	private offlineSlot(s: Slots, max: number): boolean {
		if (s.inUse >= Math.max(s.granted, this.share(max))) return false;
		s.inUse++;
		return true;
	}

	private async tick(): Promise<void> {
		if (!this.link.up) return;
		try {
			this.live = Math.max(
				1,
				Number(await this.link.eval(HEARTBEAT, [this.liveKey], [this.opts.holder, this.opts.holderTtlMs])),
			);
			await this.returnIdle(false);
		} catch {
			// the link marks itself down; the next tick after it is back resumes
		}
	}

	/** Gives back leases unused for `idleMs` (all of them when stopping), and drops old windows. */
	private async returnIdle(all: boolean): Promise<void> {
		const now = this.now();
		const calls: Promise<unknown>[] = [];
		for (const [key, l] of this.leases) {
			if (l.endsAt <= now) {
				this.leases.delete(key);
				continue;
			}
			if (l.refill || l.remaining <= 0 || (!all && now - l.lastUse < this.opts.idleMs)) continue;
			const n = l.remaining;
			l.remaining = 0;
			l.granted -= n;
			if (l.kind === "rate") calls.push(this.link.eval(RATE_GIVE, [key], [n]));
			else calls.push(this.link.eval(COUNTER_SET, [key], [this.opts.holder, "add", -n, this.ttl(l.endsAt)]));
		}
		for (const s of this.slots.values()) {
			if (s.refill || s.granted <= s.inUse || (!all && now - s.lastUse < this.opts.idleMs)) continue;
			s.granted = s.inUse;
			calls.push(this.link.eval(SLOTS_SET, [s.key], [this.opts.holder, s.inUse]));
		}
		await Promise.all(calls);
	}

	/**
	 * After Redis came back (it may have lost everything): each counter of a live window gets
	 * at least what this holder took in it, and the slots this holder holds are restated.
	 * Rate leases start over: their bucket is short-lived anyway.
	 */
	async resync(): Promise<void> {
		const now = this.now();
		const calls: Promise<unknown>[] = [];
		for (const [key, l] of this.leases) {
			l.offTokens = -1;
			if (l.kind === "rate") {
				l.remaining = 0;
				l.granted = 0;
				continue;
			}
			if (l.endsAt <= now) continue;
			l.granted = Math.max(l.granted, l.spent);
			l.remaining = l.granted - l.spent;
			calls.push(this.link.eval(COUNTER_SET, [key], [this.opts.holder, "max", l.granted, this.ttl(l.endsAt)]));
		}
		for (const s of this.slots.values()) {
			s.granted = s.inUse;
			calls.push(this.link.eval(SLOTS_SET, [s.key], [this.opts.holder, s.inUse]));
		}
		await Promise.allSettled(calls);
	}
}
