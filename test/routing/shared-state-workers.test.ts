import { afterEach, describe, expect, test } from "bun:test";
import { AccountHealth } from "../../src/routing/account-health.ts";
import { AccountStateTable } from "../../src/routing/account-state-table.ts";
import type { HammerResult, HammerTask } from "./support/hammer-worker.ts";

const WORKERS = 4;
const ITERATIONS = 5_000;
const NOW = 1_700_000_000_000;

const started: Worker[] = [];

afterEach(() => {
	for (const worker of started.splice(0)) worker.terminate();
});

function run(task: Omit<HammerTask, "workerIndex">, workerIndex: number): Promise<HammerResult> {
	const worker = new Worker(new URL("./support/hammer-worker.ts", import.meta.url).href);
	started.push(worker);
	return new Promise((resolve, reject) => {
		worker.onmessage = (event: MessageEvent<HammerResult>) => resolve(event.data);
		worker.onerror = (event) => reject(event.error ?? new Error(String(event.message)));
		worker.postMessage({ ...task, workerIndex } satisfies HammerTask);
	});
}

async function until(condition: () => boolean): Promise<void> {
	while (!condition()) await new Promise((r) => setTimeout(r, 5));
}

describe("shared account state across Bun workers", () => {
	test("concurrent allocate, acquire/release and recordOutcome lose no update", async () => {
		const table = AccountStateTable.create(64);
		const health = new AccountHealth(table);
		const keys = Array.from({ length: 6 }, (_, i) => `openai/acct-${i}`);
		// The half-open account exists before the workers start; the rest they allocate.
		const probeSlot = table.allocate("openai/probe");
		for (let i = 0; i < 3; i++) health.recordOutcome(probeSlot, { kind: "timeout" }, NOW - 10_000);
		expect(health.availability(probeSlot, NOW)).toBe("half_open");

		const control = new SharedArrayBuffer(8);
		const controlView = new Int32Array(control);
		const task = {
			buffer: table.buffer,
			control,
			keys,
			iterations: ITERATIONS,
			now: NOW,
			cappedKey: "openai/capped",
			cappedMax: 2,
			ejectKey: "openai/eject",
			probeKey: "openai/probe",
		};
		const results = Array.from({ length: WORKERS }, (_, i) => run(task, i));
		await until(() => Atomics.load(controlView, 0) === WORKERS);
		Atomics.store(controlView, 1, 1);
		Atomics.notify(controlView, 1);
		const done = await Promise.all(results);

		// Every worker resolved every key to the same slot as the main thread.
		for (const result of done) {
			for (const key of [...keys, task.cappedKey, task.ejectKey, task.probeKey]) {
				expect(result.slots[key]).toBe(table.lookup(key));
			}
		}
		expect(new Set(keys.map((k) => table.lookup(k))).size).toBe(keys.length);

		const total = WORKERS * ITERATIONS;
		for (const key of keys) {
			const slot = table.lookup(key);
			expect(table.inflight(slot)).toBe(0);
			expect(table.counter(slot, "attempts")).toBe(total);
			expect(table.counter(slot, "successes")).toBe(total / 2);
			expect(table.ewmaTtftUs(slot)).toBe(100_000);
			// total/2 successes and total/2 extra failures in one window: exactly 1/2.
			expect(health.errorRatio(slot, NOW)).toBe(0.5);
		}

		const capped = table.lookup(task.cappedKey);
		expect(table.inflight(capped)).toBe(0);
		expect(done.reduce((n, r) => n + r.cappedOverCap, 0)).toBe(0);
		expect(done.reduce((n, r) => n + r.cappedAcquired, 0)).toBeGreaterThan(0);

		const eject = table.lookup(task.ejectKey);
		expect(table.counter(eject, "failures")).toBe(total);
		expect(table.consecutiveFailures(eject)).toBe(total);
		expect(table.counter(eject, "ejections")).toBe(1);

		expect(done.reduce((n, r) => n + r.probesWon, 0)).toBe(1);
	});
});
