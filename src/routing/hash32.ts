/**
 * 32-bit hashing for the routing layer. Pure integer arithmetic so every worker
 * computes the same value for the same input without any shared state.
 */

/** FNV-1a over a byte sequence, as an unsigned 32-bit integer. */
export function fnv1a32(bytes: Uint8Array): number {
	let h = 0x811c9dc5;
	for (let i = 0; i < bytes.length; i++) {
		h ^= bytes[i];
		h = Math.imul(h, 0x01000193);
	}
	return h >>> 0;
}

/** FNV-1a over a string's UTF-16 code units: cheaper than encoding first. */
export function fnv1a32String(text: string): number {
	let h = 0x811c9dc5;
	for (let i = 0; i < text.length; i++) {
		h ^= text.charCodeAt(i);
		h = Math.imul(h, 0x01000193);
	}
	return h >>> 0;
}

/** murmur3's finaliser: spreads every input bit over the whole word. */
export function mix32(value: number): number {
	let h = value | 0;
	h ^= h >>> 16;
	h = Math.imul(h, 0x85ebca6b);
	h ^= h >>> 13;
	h = Math.imul(h, 0xc2b2ae35);
	h ^= h >>> 16;
	return h >>> 0;
}
