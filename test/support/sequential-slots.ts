import type { SlotOf } from "../../src/providers/provider-registry.ts";

/** Sequential slots in configuration order: identical in every worker built from one config. */
export function sequentialSlots(): SlotOf {
	const slots = new Map<string, number>();
	return (provider, account) => {
		const key = `${provider}\u0000${account}`;
		let s = slots.get(key);
		if (s === undefined) {
			s = slots.size;
			slots.set(key, s);
		}
		return s;
	};
}
