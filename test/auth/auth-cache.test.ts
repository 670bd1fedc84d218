import { describe, expect, test } from "bun:test";
import { AuthCache } from "../../src/auth/auth-cache.ts";

describe("AuthCache", () => {
	test("positive entries are fresh for the TTL, then stale until maxStale, then gone", () => {
		let now = 0;
		const c = new AuthCache<string>({
			positiveTtlMs: 100,
			maxStaleMs: 300,
			now: () => now,
		});
		c.setPositive("h", "v", "key_1");
		expect(c.get("h")).toEqual({ kind: "positive", value: "v", fresh: true });
		now = 150;
		expect(c.get("h")).toEqual({ kind: "positive", value: "v", fresh: false });
		now = 400;
		expect(c.get("h").kind).toBe("miss");
	});

	test("negative entries expire and the map stays within its bound (oldest evicted)", () => {
		let now = 0;
		const c = new AuthCache<string>({
			negativeTtlMs: 50,
			maxNegative: 100,
			now: () => now,
		});
		for (let i = 0; i < 10_000; i++) c.setNegative(`junk-${i}`);
		expect(c.size.negative).toBe(100);
		expect(c.get("junk-0").kind).toBe("miss");
		expect(c.get("junk-9999").kind).toBe("negative");
		now = 60;
		expect(c.get("junk-9999").kind).toBe("miss");
	});

	test("positive map is bounded too", () => {
		const c = new AuthCache<number>({ maxPositive: 10 });
		for (let i = 0; i < 50; i++) c.setPositive(`h${i}`, i, `k${i}`);
		expect(c.size.positive).toBe(10);
		expect(c.get("h49").kind).toBe("positive");
		expect(c.get("h0").kind).toBe("miss");
	});

	test("dropId removes the key's entries; clearNegative keeps positives", () => {
		const c = new AuthCache<string>();
		c.setPositive("h1", "a", "key_1");
		c.setPositive("h2", "b", "key_2");
		c.setNegative("h3");
		c.dropId("key_1");
		expect(c.get("h1").kind).toBe("miss");
		expect(c.get("h2").kind).toBe("positive");
		c.clearNegative();
		expect(c.get("h3").kind).toBe("miss");
		expect(c.get("h2").kind).toBe("positive");
		c.clear();
		expect(c.get("h2").kind).toBe("miss");
	});

	test("a positive entry replaces a negative one", () => {
		const c = new AuthCache<string>();
		c.setNegative("h");
		c.setPositive("h", "v");
		expect(c.get("h").kind).toBe("positive");
	});
});
