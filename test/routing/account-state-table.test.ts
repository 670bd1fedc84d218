import { describe, expect, test } from "bun:test";
import { AccountStateTable, accountKey, MAX_KEY_BYTES } from "../../src/routing/account-state-table.ts";

describe("AccountStateTable", () => {
	test("allocate is stable per key and distinct across keys", () => {
		const table = AccountStateTable.create(64);
		const a = table.allocate(accountKey("openai", "a"));
		const b = table.allocate(accountKey("openai", "b"));
		expect(a).not.toBe(b);
		expect(table.allocate("openai/a")).toBe(a);
		expect(table.lookup("openai/b")).toBe(b);
		expect(table.lookup("openai/zzz")).toBe(-1);
		expect(table.keyOf(a)).toBe("openai/a");
	});

	test("a second view over the same buffer resolves the same slots and sees the same state", () => {
		const one = AccountStateTable.create(32);
		const two = AccountStateTable.fromBuffer(one.buffer);
		const slot = one.allocate("p/x");
		expect(two.allocate("p/x")).toBe(slot);
		const added = two.allocate("p/y");
		expect(one.lookup("p/y")).toBe(added);
		expect(one.tryAcquire(slot, 0)).toBe(true);
		expect(two.inflight(slot)).toBe(1);
	});

	test("fromBuffer rejects foreign buffers", () => {
		expect(() => AccountStateTable.fromBuffer(new SharedArrayBuffer(1024))).toThrow();
	});

	test("colliding hashes still get distinct slots (full key compare)", () => {
		// With 4 slots, linear probing is exercised whatever the hashes are.
		const table = AccountStateTable.create(4);
		const slots = ["a", "b", "c", "d"].map((k) => table.allocate(k));
		expect(new Set(slots).size).toBe(4);
		expect(["a", "b", "c", "d"].map((k) => table.allocate(k))).toEqual(slots);
		expect(() => table.allocate("e")).toThrow(/full/);
	});

	test("keys longer than MAX_KEY_BYTES stay distinct", () => {
		const table = AccountStateTable.create(16);
		const long = "x".repeat(MAX_KEY_BYTES * 2);
		const a = table.allocate(`${long}a`);
		const b = table.allocate(`${long}b`);
		expect(a).not.toBe(b);
		expect(table.allocate(`${long}a`)).toBe(a);
	});

	test("tryAcquire honours max, release never goes below zero", () => {
		const table = AccountStateTable.create(8);
		const s = table.allocate("k");
		expect(table.tryAcquire(s, 2)).toBe(true);
		expect(table.tryAcquire(s, 2)).toBe(true);
		expect(table.tryAcquire(s, 2)).toBe(false);
		table.release(s);
		table.release(s);
		table.release(s);
		expect(table.inflight(s)).toBe(0);
	});

	test("ewma ttft starts unknown and moves by alpha", () => {
		const table = AccountStateTable.create(8);
		const s = table.allocate("k");
		expect(table.ewmaTtftUs(s)).toBe(0);
		table.updateEwmaTtft(s, 100, 0.2);
		expect(table.ewmaTtftUs(s)).toBe(100_000);
		table.updateEwmaTtft(s, 200, 0.2);
		expect(table.ewmaTtftUs(s)).toBe(120_000);
	});

	test("error windows slide and forget", () => {
		const table = AccountStateTable.create(8);
		const s = table.allocate("k");
		table.recordResult(s, false, 10);
		table.recordResult(s, true, 10);
		expect(table.errorRatio(s, 10, 1)).toBe(0.5);
		// Next window: the previous one counts by its weight.
		table.recordResult(s, true, 11);
		expect(table.errorRatio(s, 11, 1)).toBeCloseTo(1 / 3);
		expect(table.errorRatio(s, 11, 0)).toBe(0);
		// Two windows later nothing is left.
		expect(table.errorRatio(s, 13, 1)).toBe(0);
	});

	test("saturated window counts halve and keep the ratio", () => {
		const table = AccountStateTable.create(8);
		const s = table.allocate("k");
		for (let i = 0; i < 70_000; i++) table.recordResult(s, i % 4 !== 0, 5);
		expect(table.errorRatio(s, 5, 0)).toBeCloseTo(0.25, 2);
	});

	test("round robin counters are shared through the buffer", () => {
		const one = AccountStateTable.create(8);
		const two = AccountStateTable.fromBuffer(one.buffer);
		expect(one.nextRoundRobin(3)).toBe(0);
		expect(two.nextRoundRobin(3)).toBe(1);
		expect(one.nextRoundRobin(4)).toBe(0);
	});
});
