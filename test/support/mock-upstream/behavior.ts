/**
 * How the mock misbehaves. Chosen per request by words inside the upstream API key
 * (so a gateway account's key picks its behaviour), or globally with `setBehavior`.
 */
export interface MockBehavior {
	/** Answer with this HTTP error status instead of a completion (`fail503`, `fail429`, …). */
	failStatus?: number;
	/** Wait this long before sending headers (`slow200`). */
	slowMs?: number;
	/** Stream this many content events, then reset the connection (`break3`). */
	breakAfter?: number;
	/** Send the first event, then nothing until the client goes away (`stall`). */
	stall?: boolean;
	/** Pause this long between stream events (`drip50`). */
	dripMs?: number;
	/** In-band error event after 2 content events (`midError`). */
	midError?: boolean;
	/** Send every content event, then nothing until the client goes away: the usage never comes (`holdUsage`). */
	holdUsage?: boolean;
	/** Report prompt/input token counts as fractions (`1.5`), as a misbehaving upstream might (`fracUsage`). */
	fracUsage?: boolean;
}

/** Parses behaviour words out of a key: `acct-fail429`, `k-slow200-drip10`, `stall`, `break3`. */
export function parseBehavior(key: string): MockBehavior {
	const b: MockBehavior = {};
	if (key === "") return b;
	const fail = /fail(\d{3})/.exec(key);
	if (fail) b.failStatus = Number(fail[1]);
	const slow = /slow(\d+)/.exec(key);
	if (slow) b.slowMs = Number(slow[1]);
	const brk = /break(\d+)/.exec(key);
	if (brk) b.breakAfter = Number(brk[1]);
	if (/stall/.test(key)) b.stall = true;
	const drip = /drip(\d+)/.exec(key);
	if (drip) b.dripMs = Number(drip[1]);
	if (/midError/i.test(key)) b.midError = true;
	if (/holdUsage/i.test(key)) b.holdUsage = true;
	if (/fracUsage/i.test(key)) b.fracUsage = true;
	return b;
}

/** Per-request words win over the global setting, field by field. */
export function mergeBehavior(global: MockBehavior, perKey: MockBehavior): MockBehavior {
	return { ...global, ...perKey };
}

export function isPlain(b: MockBehavior): boolean {
	return (
		b.failStatus === undefined &&
		!b.slowMs &&
		b.breakAfter === undefined &&
		!b.stall &&
		!b.dripMs &&
		!b.midError &&
		!b.holdUsage &&
		!b.fracUsage
	);
}
