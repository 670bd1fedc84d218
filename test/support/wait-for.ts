export interface WaitForOptions {
	timeoutMs?: number;
	intervalMs?: number;
	/** Named in the timeout message, e.g. "1,000 rows". */
	what?: string;
}

/** Polls `predicate` until it holds or the deadline passes; tests wait on conditions, not sleeps. */
export async function waitFor(
	predicate: () => boolean | Promise<boolean>,
	{ timeoutMs = 10_000, intervalMs = 25, what = "condition" }: WaitForOptions = {},
): Promise<void> {
	const started = Date.now();
	const deadline = started + timeoutMs;
	while (!(await predicate())) {
		if (Date.now() > deadline) {
			throw new Error(`waitFor: timed out after ${timeoutMs} ms waiting for ${what}`);
		}
		await Bun.sleep(intervalMs);
	}
}
