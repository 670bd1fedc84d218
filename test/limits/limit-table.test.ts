import { describe, expect, test } from "bun:test";
import { hashSubject, LimitTable } from "../../src/limits/limit-table.ts";

describe("LimitTable", () => {
	test("the same subject gets the same slot, also through another mapping of the buffer", () => {
		const a = new LimitTable({ capacity: 64 });
		const slots = ["key-a", "key-b", "tenant-1"].map((s) => a.slotFor(s));
		expect(new Set(slots).size).toBe(3);
		const b = LimitTable.fromBuffer(a.buffer);
		expect(b.capacity).toBe(64);
		expect(b.epochMs).toBe(a.epochMs);
		expect(["key-a", "key-b", "tenant-1"].map((s) => b.find(s))).toEqual(slots);
		expect(b.find("never-seen")).toBe(-1);
		expect(a.stats()).toEqual({ capacity: 64, used: 3, fullMisses: 0 });
	});

	test("hashes are 64-bit, stable and never 0", () => {
		expect(hashSubject("key-a")).toBe(hashSubject("key-a"));
		expect(hashSubject("key-a")).not.toBe(hashSubject("key-b"));
		expect(hashSubject("")).not.toBe(0n);
	});

	test("a full table answers -1 and calls the onFull hook", () => {
		const full: string[] = [];
		const table = new LimitTable({ capacity: 4, onFull: (s) => full.push(s) });
		for (let i = 0; i < 4; i++) expect(table.slotFor(`s${i}`)).toBeGreaterThanOrEqual(0);
		expect(table.slotFor("one-too-many")).toBe(-1);
		// Subjects already placed still resolve.
		expect(table.slotFor("s2")).toBeGreaterThanOrEqual(0);
		expect(full).toEqual(["one-too-many"]);
		expect(table.stats()).toEqual({ capacity: 4, used: 4, fullMisses: 1 });
	});

	test("rejects bad capacities and foreign buffers", () => {
		expect(() => new LimitTable({ capacity: 1000 })).toThrow(/power of two/);
		expect(() => LimitTable.fromBuffer(new SharedArrayBuffer(1024))).toThrow(/magic/);
	});
});
