/**
 * Worker side of the multi-thread test: attaches to the shared table and hammers it.
 * Started by test/routing/shared-state-workers.test.ts.
 */
import { AccountHealth } from "../../../src/routing/account-health.ts";
import { AccountStateTable } from "../../../src/routing/account-state-table.ts";

export interface HammerTask {
	buffer: SharedArrayBuffer;
	/** Int32 [ready count, go flag]. */
	control: SharedArrayBuffer;
	workerIndex: number;
	keys: string[];
	iterations: number;
	/** Clock value every worker uses, so all outcomes land in one error window. */
	now: number;
	/** Slot of an account with max_concurrency = cappedMax. */
	cappedKey: string;
	cappedMax: number;
	/** Account every worker fails at once: must be ejected exactly once. */
	ejectKey: string;
	/** Half-open account every worker tries to probe once. */
	probeKey: string;
}

export interface HammerResult {
	workerIndex: number;
	slots: Record<string, number>;
	cappedAcquired: number;
	cappedOverCap: number;
	probesWon: number;
}

declare const self: Worker;

self.onmessage = (event: MessageEvent<HammerTask>) => {
	const task = event.data;
	const table = AccountStateTable.fromBuffer(task.buffer);
	const health = new AccountHealth(table);
	const control = new Int32Array(task.control);

	// Every worker allocates the same keys, each in its own order, at the same time.
	const all = [...task.keys, task.cappedKey, task.ejectKey, task.probeKey];
	const order = all.map((_, i) => all[(i + task.workerIndex * 7) % all.length]);
	Atomics.add(control, 0, 1);
	Atomics.notify(control, 0);
	while (Atomics.load(control, 1) === 0) Atomics.wait(control, 1, 0, 50);

	const slots: Record<string, number> = {};
	for (const key of order) slots[key] = table.allocate(key);
	const hot = task.keys.map((key) => slots[key]);
	const probeSlot = slots[task.probeKey];
	const probesWon = health.tryAcquireProbe(probeSlot, task.now) ? 1 : 0;

	const capped = slots[task.cappedKey];
	const ejectSlot = slots[task.ejectKey];
	let cappedAcquired = 0;
	let cappedOverCap = 0;
	for (let i = 0; i < task.iterations; i++) {
		for (const slot of hot) {
			table.tryAcquire(slot, 0);
			health.recordOutcome(slot, i % 2 === 0 ? { kind: "success", ttftMs: 100 } : { kind: "client_error" }, task.now);
			if (i % 2 === 1) table.recordResult(slot, false, Math.floor(task.now / health.policy.errorWindowMs));
			table.release(slot);
		}
		if (table.tryAcquire(capped, task.cappedMax)) {
			cappedAcquired++;
			if (table.inflight(capped) > task.cappedMax) cappedOverCap++;
			table.release(capped);
		}
		health.recordOutcome(ejectSlot, { kind: "server_error" }, task.now);
	}

	const result: HammerResult = {
		workerIndex: task.workerIndex,
		slots,
		cappedAcquired,
		cappedOverCap,
		probesWon,
	};
	postMessage(result);
};
