import type { AccountRef } from "../providers/account-ref.ts";
import { fnv1a32String, mix32 } from "./hash32.ts";

/**
 * Session affinity (keeps a conversation on one account, which keeps the upstream's
 * prompt cache warm).
 *
 * The binding is decided by rendezvous hashing of the session key over the usable
 * candidates: stateless, so every worker picks the same account for a new session
 * without sharing a map, and when that account drops out only its sessions move, each
 * to the same next choice everywhere. The per-worker LRU remembers where a session went
 * and keeps it there while that account stays usable, so a session that failed over
 * does not bounce back when the first account recovers.
 */
export interface StickySessionOptions {
	/** Bound on remembered sessions; least recently used go first. */
	maxEntries?: number;
	/** A session not seen for this long is forgotten. */
	ttlMs?: number;
}

export const DEFAULT_STICKY_MAX_ENTRIES = 10_000;
export const DEFAULT_STICKY_TTL_MS = 3_600_000;

interface Binding {
	slot: number;
	expiresAt: number;
}

/** Index of the rendezvous winner for `sessionKey` among the first `count` candidates. */
export function rendezvousIndex(sessionKey: string, candidates: readonly AccountRef[], count: number): number {
	const keyHash = fnv1a32String(sessionKey);
	let best = 0;
	let bestScore = -1;
	let bestSlot = Number.POSITIVE_INFINITY;
	for (let i = 0; i < count; i++) {
		const slot = candidates[i].slot;
		// Slots are the same in every worker, so they name accounts for hashing too.
		const score = mix32(keyHash ^ mix32(Math.imul(slot + 1, 0x9e3779b1)));
		if (score > bestScore || (score === bestScore && slot < bestSlot)) {
			best = i;
			bestScore = score;
			bestSlot = slot;
		}
	}
	return best;
}

export class StickySessions {
	readonly maxEntries: number;
	readonly ttlMs: number;
	private readonly bindings = new Map<string, Binding>();

	constructor(options: StickySessionOptions = {}) {
		this.maxEntries = Math.max(1, options.maxEntries ?? DEFAULT_STICKY_MAX_ENTRIES);
		this.ttlMs = options.ttlMs ?? DEFAULT_STICKY_TTL_MS;
	}

	get size(): number {
		return this.bindings.size;
	}

	/** The slot a session is bound to, refreshing its recency and TTL. */
	get(sessionKey: string, now: number): number | undefined {
		const binding = this.bindings.get(sessionKey);
		if (binding === undefined) return undefined;
		if (binding.expiresAt <= now) {
			this.bindings.delete(sessionKey);
			return undefined;
		}
		// Re-insert to move it to the most recent end of the Map's order.
		this.bindings.delete(sessionKey);
		binding.expiresAt = now + this.ttlMs;
		this.bindings.set(sessionKey, binding);
		return binding.slot;
	}

	bind(sessionKey: string, slot: number, now: number): void {
		this.bindings.delete(sessionKey);
		this.bindings.set(sessionKey, { slot, expiresAt: now + this.ttlMs });
		while (this.bindings.size > this.maxEntries) {
			const oldest = this.bindings.keys().next();
			if (oldest.done) break;
			this.bindings.delete(oldest.value);
		}
	}

	delete(sessionKey: string): void {
		this.bindings.delete(sessionKey);
	}

	/**
	 * Index among the first `count` (usable) candidates for this session: its bound
	 * account if still among them, else the rendezvous winner, which becomes the binding.
	 */
	choose(sessionKey: string, candidates: readonly AccountRef[], count: number, now: number): number {
		const bound = this.get(sessionKey, now);
		if (bound !== undefined) {
			for (let i = 0; i < count; i++) if (candidates[i].slot === bound) return i;
		}
		const index = rendezvousIndex(sessionKey, candidates, count);
		this.bind(sessionKey, candidates[index].slot, now);
		return index;
	}
}
