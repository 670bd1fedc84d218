import { describe, expect, test } from "bun:test";
import type { RoutingStrategy } from "../../src/config/types.ts";
import type { AccountRef } from "../../src/providers/account-ref.ts";
import { AccountHealth } from "../../src/routing/account-health.ts";
import { AccountPool } from "../../src/routing/account-pool.ts";
import { AccountStateTable } from "../../src/routing/account-state-table.ts";
import { account, manualClock, seededRandom, sequence } from "./support/fixtures.ts";

function setup(strategy: RoutingStrategy, random: () => number = Math.random) {
	const table = AccountStateTable.create(64);
	const clock = manualClock();
	const accounts = [account(table, "a"), account(table, "b"), account(table, "c")];
	const pool = new AccountPool(accounts, table, {
		strategy,
		now: clock.now,
		random,
	});
	return { table, clock, accounts, pool };
}

const names = (picks: (AccountRef | null)[]) => picks.map((p) => p?.name ?? null);

describe("AccountPool strategies", () => {
	test("first_available takes configuration order", () => {
		const { pool } = setup("first_available");
		expect(names([pool.pick({ model: "m" }), pool.pick({ model: "m" })])).toEqual(["a", "a"]);
		expect(pool.pick({ model: "m", exclude: new Set([pool.accounts[0].slot]) })?.name).toBe("b");
	});

	test("round_robin cycles, and the counter is shared by pools on the same buffer", () => {
		const { pool, table, accounts } = setup("round_robin");
		const other = new AccountPool(accounts, AccountStateTable.fromBuffer(table.buffer), {
			strategy: "round_robin",
		});
		const picks = [
			pool.pick({ model: "m" }),
			other.pick({ model: "m" }),
			pool.pick({ model: "m" }),
			other.pick({ model: "m" }),
		];
		expect(names(picks)).toEqual(["a", "b", "c", "a"]);
	});

	test("random maps the random source uniformly", () => {
		const { pool } = setup("random", sequence(0, 0.34, 0.67, 0.9999));
		const picks = [1, 2, 3, 4].map(() => pool.pick({ model: "m" }));
		expect(names(picks)).toEqual(["a", "b", "c", "c"]);
	});

	test("weighted is roughly proportional to weight", () => {
		const table = AccountStateTable.create(64);
		const accounts = [
			account(table, "w1", { weight: 1 }),
			account(table, "w3", { weight: 3 }),
			account(table, "w6", { weight: 6 }),
		];
		const pool = new AccountPool(accounts, table, {
			strategy: "weighted",
			random: seededRandom(42),
		});
		const counts: Record<string, number> = { w1: 0, w3: 0, w6: 0 };
		const n = 20_000;
		for (let i = 0; i < n; i++) {
			const picked = pool.pick({ model: "m" });
			if (picked) counts[picked.name]++;
		}
		expect(counts.w1 / n).toBeCloseTo(0.1, 1);
		expect(counts.w3 / n).toBeCloseTo(0.3, 1);
		expect(counts.w6 / n).toBeCloseTo(0.6, 1);
	});

	test("weighted shifts traffic away from an account with errors", () => {
		const table = AccountStateTable.create(64);
		const clock = manualClock(1_700_000_000_000);
		const accounts = [account(table, "good"), account(table, "flaky")];
		const health = new AccountHealth(table);
		const pool = new AccountPool(accounts, table, {
			strategy: "weighted",
			now: clock.now,
			random: seededRandom(7),
			health,
		});
		// 50 % errors, never three in a row: stays in rotation at (1 - 0.5)^2 = 1/4 weight.
		for (let i = 0; i < 10; i++) {
			pool.recordOutcome(accounts[1], { kind: "server_error" });
			pool.recordOutcome(accounts[1], { kind: "success", ttftMs: 10 });
		}
		let flaky = 0;
		const n = 10_000;
		for (let i = 0; i < n; i++) if (pool.pick({ model: "m" })?.name === "flaky") flaky++;
		expect(flaky / n).toBeCloseTo(0.2, 1);
	});

	test("weight 0 accounts are standbys", () => {
		const table = AccountStateTable.create(64);
		const accounts = [account(table, "main", { weight: 2 }), account(table, "standby", { weight: 0 })];
		const pool = new AccountPool(accounts, table, {
			strategy: "weighted",
			random: seededRandom(1),
		});
		for (let i = 0; i < 200; i++) expect(pool.pick({ model: "m" })?.name).toBe("main");
		expect(pool.pick({ model: "m", exclude: new Set([accounts[0].slot]) })?.name).toBe("standby");
	});

	test("latency prefers unknown, then lowest ewma, ties by in-flight", () => {
		const { pool, accounts } = setup("latency");
		const [a, b, c] = accounts;
		expect(pool.pick({ model: "m" })?.name).toBe("a");
		pool.recordOutcome(a, { kind: "success", ttftMs: 300 });
		expect(pool.pick({ model: "m" })?.name).toBe("b");
		pool.recordOutcome(b, { kind: "success", ttftMs: 100 });
		expect(pool.pick({ model: "m" })?.name).toBe("c");
		pool.recordOutcome(c, { kind: "success", ttftMs: 100 });
		expect(pool.pick({ model: "m" })?.name).toBe("b");
		pool.acquire(b);
		expect(pool.pick({ model: "m" })?.name).toBe("c");
	});

	test("availability prefers the lowest error ratio, then latency like the latency strategy", () => {
		const table = AccountStateTable.create(64);
		const clock = manualClock(1_700_000_000_000);
		const accounts = [account(table, "flaky"), account(table, "slow"), account(table, "fast")];
		const pool = new AccountPool(accounts, table, { strategy: "availability", now: clock.now });
		const [flaky, slow, fast] = accounts;
		// one error in two for "flaky" (never three in a row, so it stays a candidate)
		pool.recordOutcome(flaky, { kind: "success", ttftMs: 5 });
		pool.recordOutcome(flaky, { kind: "server_error" });
		// both healthy ones measured: "fast" wins on latency, "flaky" loses despite its 5 ms
		pool.recordOutcome(slow, { kind: "success", ttftMs: 400 });
		for (let i = 0; i < 3; i++) pool.recordOutcome(fast, { kind: "success", ttftMs: 50 });
		expect(pool.pick({ model: "m" })?.name).toBe("fast");
		// the fast one starts failing (1 in 4): the slow but healthy one is preferred, and the
		// fast one still comes before "flaky" (1 in 2), however quick "flaky" was
		pool.recordOutcome(fast, { kind: "server_error" });
		expect(pool.pick({ model: "m" })?.name).toBe("slow");
		expect(pool.pick({ model: "m", exclude: new Set([slow.slot]) })?.name).toBe("fast");
	});

	test("least_busy takes the lowest in-flight / capacity", () => {
		const table = AccountStateTable.create(64);
		const accounts = [account(table, "small", { maxConcurrency: 4 }), account(table, "big", { maxConcurrency: 40 })];
		const pool = new AccountPool(accounts, table, { strategy: "least_busy" });
		expect(pool.pick({ model: "m" })?.name).toBe("small");
		pool.acquire(accounts[0]);
		expect(pool.pick({ model: "m" })?.name).toBe("big");
		for (let i = 0; i < 9; i++) pool.acquire(accounts[1]);
		// 1/4 = 0.25 vs 9/40 = 0.225
		expect(pool.pick({ model: "m" })?.name).toBe("big");
		pool.acquire(accounts[1]);
		// 1/4 = 0.25 vs 10/40 = 0.25: tie goes to configuration order
		expect(pool.pick({ model: "m" })?.name).toBe("small");
	});
});

describe("AccountPool availability", () => {
	test("only accounts serving the model (and provider) are candidates", () => {
		const table = AccountStateTable.create(64);
		const accounts = [
			account(table, "mini", { models: new Set(["gpt-4o-mini"]) }),
			account(table, "any"),
			account(table, "other", { provider: "groq" }),
		];
		const pool = new AccountPool(accounts, table, {
			strategy: "first_available",
		});
		expect(pool.pick({ model: "gpt-4o" })?.name).toBe("any");
		expect(pool.pick({ model: "gpt-4o-mini" })?.name).toBe("mini");
		expect(pool.pick({ model: "gpt-4o", provider: "groq" })?.name).toBe("other");
	});

	test("max_concurrency saturation skips the account; acquire refuses past the cap", () => {
		const table = AccountStateTable.create(64);
		const accounts = [account(table, "a", { maxConcurrency: 1 }), account(table, "b")];
		const pool = new AccountPool(accounts, table, {
			strategy: "first_available",
		});
		const first = pool.pick({ model: "m" });
		expect(first?.name).toBe("a");
		if (!first) throw new Error("unreachable");
		expect(pool.acquire(first)).toBe(true);
		expect(pool.acquire(first)).toBe(false);
		expect(pool.pick({ model: "m" })?.name).toBe("b");
		pool.release(first);
		expect(pool.pick({ model: "m" })?.name).toBe("a");
	});

	test("cooling down, ejected and disabled accounts are skipped; unavailability says why", () => {
		const { pool, accounts, clock } = setup("first_available");
		const [a, b, c] = accounts;
		pool.recordOutcome(a, { kind: "rate_limited", retryAfterMs: 2_000 });
		for (let i = 0; i < 3; i++) pool.recordOutcome(b, { kind: "server_error" });
		expect(pool.pick({ model: "m" })?.name).toBe("c");
		pool.recordOutcome(c, { kind: "auth_error", status: 403 });
		expect(pool.pick({ model: "m" })).toBeNull();
		expect(pool.unavailability({ model: "m" })).toEqual({
			reason: "cooling_down",
			retryAfterMs: 2_000,
		});
		clock.advance(2_000);
		expect(pool.pick({ model: "m" })?.name).toBe("a");
		expect(pool.unavailability({ model: "m", exclude: new Set([a.slot]) })).toEqual({
			reason: "ejected",
			retryAfterMs: 3_000,
		});
		expect(
			pool.unavailability({
				model: "nope",
				exclude: new Set([a.slot, b.slot, c.slot]),
			}),
		).toEqual({
			reason: "no_account",
			retryAfterMs: null,
		});
		pool.health.enable(c.slot);
		expect(pool.pick({ model: "m", exclude: new Set([a.slot]) })?.name).toBe("c");
	});

	test("half-open account is handed to exactly one request across pools", () => {
		const { pool, accounts, clock, table } = setup("first_available");
		const other = new AccountPool(accounts, AccountStateTable.fromBuffer(table.buffer), {
			strategy: "first_available",
			now: clock.now,
		});
		const [a] = accounts;
		for (let i = 0; i < 3; i++) pool.recordOutcome(a, { kind: "connection_error" });
		expect(pool.pick({ model: "m" })?.name).toBe("b");
		clock.advance(5_000);
		const picks = [pool.pick({ model: "m" }), other.pick({ model: "m" }), pool.pick({ model: "m" })];
		expect(names(picks)).toEqual(["a", "b", "b"]);
		other.recordOutcome(a, { kind: "success", ttftMs: 50 });
		expect(names([pool.pick({ model: "m" }), other.pick({ model: "m" })])).toEqual(["a", "a"]);
	});

	test("setAccounts swaps the list and keeps live state by slot", () => {
		const { pool, accounts, table } = setup("first_available");
		const [a] = accounts;
		pool.acquire(a);
		pool.recordOutcome(a, { kind: "success", ttftMs: 120 });
		pool.setAccounts([account(table, "d"), { ...a, weight: 5 }]);
		const snap = pool.snapshot();
		expect(snap.map((s) => s.name)).toEqual(["d", "a"]);
		expect(snap[1]).toMatchObject({
			provider: "openai",
			inflight: 1,
			ewma_ttft_ms: 120,
			attempts: 1,
			weight: 5,
			state: "available",
			disabled: false,
			ejected_until: null,
			cooldown_until: null,
		});
		expect(() => pool.setAccounts([a, { ...a, name: "dup" }])).toThrow(/more than one/);
		expect(() => pool.setAccounts([{ ...a, slot: 10_000 }])).toThrow(/invalid slot/);
	});

	test("snapshot reports ejection, errors and counters", () => {
		const { pool, accounts, clock } = setup("first_available");
		const [a] = accounts;
		for (let i = 0; i < 3; i++) pool.recordOutcome(a, { kind: "server_error" });
		const snap = pool.snapshot()[0];
		expect(snap).toMatchObject({
			name: "a",
			state: "ejected",
			consecutive_failures: 3,
			ejected_until: clock.now() + 5_000,
			ejections: 1,
			attempts: 3,
			failures: 3,
			error_ratio: 1,
		});
	});
});
