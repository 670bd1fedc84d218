import type { AccountRef } from "../../../src/providers/account-ref.ts";
import { type AccountStateTable, accountKey } from "../../../src/routing/account-state-table.ts";

export function account(
	table: AccountStateTable,
	name: string,
	overrides: Partial<Omit<AccountRef, "slot" | "name">> = {},
): AccountRef {
	const provider = overrides.provider ?? "openai";
	return {
		slot: table.allocate(accountKey(provider, name)),
		provider,
		name,
		apiKey: `sk-${name}`,
		baseUrl: "http://upstream.test/v1",
		weight: 1,
		maxConcurrency: 0,
		models: null,
		...overrides,
	};
}

/** A clock the test moves by hand. */
export function manualClock(start = 1_000_000): {
	now: () => number;
	advance: (ms: number) => void;
} {
	let t = start;
	return {
		now: () => t,
		advance: (ms: number) => {
			t += ms;
		},
	};
}

/** mulberry32: a small seeded PRNG so distributions are reproducible. */
export function seededRandom(seed: number): () => number {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) | 0;
		let t = Math.imul(a ^ (a >>> 15), 1 | a);
		t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

/** Returns the given values in turn, repeating the last one. */
export function sequence(...values: number[]): () => number {
	let i = 0;
	return () => values[Math.min(i++, values.length - 1)];
}
