import { describe, expect, test } from "bun:test";
import { AccountPool } from "../../src/routing/account-pool.ts";
import { AccountStateTable } from "../../src/routing/account-state-table.ts";
import { rendezvousIndex, StickySessions } from "../../src/routing/sticky-sessions.ts";
import { account, manualClock, seededRandom } from "./support/fixtures.ts";

function setup() {
	const table = AccountStateTable.create(64);
	const clock = manualClock();
	const accounts = ["a", "b", "c", "d"].map((n) => account(table, n, { maxConcurrency: 2 }));
	const pool = new AccountPool(accounts, table, {
		strategy: "random",
		now: clock.now,
		random: seededRandom(3),
	});
	return { table, clock, accounts, pool };
}

describe("sticky sessions", () => {
	test("a session keeps its account across picks", () => {
		const { pool } = setup();
		for (const session of ["s1", "s2", "s3", "s4", "s5"]) {
			const first = pool.pick({ model: "m", sessionKey: session });
			for (let i = 0; i < 20; i++) expect(pool.pick({ model: "m", sessionKey: session })).toBe(first);
		}
	});

	test("workers with no shared map agree on a new session (rendezvous)", () => {
		const { pool, table, accounts } = setup();
		const other = new AccountPool(accounts, AccountStateTable.fromBuffer(table.buffer), {
			strategy: "random",
		});
		for (let i = 0; i < 50; i++) {
			const key = `session-${i}`;
			expect(other.pick({ model: "m", sessionKey: key })?.slot).toBe(pool.pick({ model: "m", sessionKey: key })?.slot);
		}
	});

	test("sessions spread over accounts", () => {
		const { accounts } = setup();
		const hits = new Set<number>();
		for (let i = 0; i < 200; i++) hits.add(rendezvousIndex(`k${i}`, accounts, accounts.length));
		expect(hits.size).toBe(accounts.length);
	});

	test("moves off an ejected account, the same way in every worker, and stays", () => {
		const { pool, table, accounts, clock } = setup();
		const other = new AccountPool(accounts, AccountStateTable.fromBuffer(table.buffer), {
			strategy: "random",
			now: clock.now,
		});
		const home = pool.pick({ model: "m", sessionKey: "conv" });
		if (!home) throw new Error("no account");
		for (let i = 0; i < 3; i++) pool.recordOutcome(home, { kind: "server_error" });
		const moved = pool.pick({ model: "m", sessionKey: "conv" });
		expect(moved).not.toBeNull();
		expect(moved?.slot).not.toBe(home.slot);
		expect(other.pick({ model: "m", sessionKey: "conv" })?.slot).toBe(moved?.slot);
		// The home account recovers; this worker keeps the session where its cache now is.
		clock.advance(5_000);
		pool.pick({ model: "m" }); // takes the probe
		pool.recordOutcome(home, { kind: "success", ttftMs: 10 });
		expect(pool.pick({ model: "m", sessionKey: "conv" })?.slot).toBe(moved?.slot);
	});

	test("a saturated sticky account is skipped and the session re-binds", () => {
		const { pool } = setup();
		const home = pool.pick({ model: "m", sessionKey: "conv" });
		if (!home) throw new Error("no account");
		expect(pool.acquire(home)).toBe(true);
		expect(pool.acquire(home)).toBe(true);
		const moved = pool.pick({ model: "m", sessionKey: "conv" });
		expect(moved?.slot).not.toBe(home.slot);
		pool.release(home);
		expect(pool.pick({ model: "m", sessionKey: "conv" })?.slot).toBe(moved?.slot);
	});

	test("LRU is bounded and entries expire", () => {
		const sticky = new StickySessions({ maxEntries: 2, ttlMs: 1_000 });
		sticky.bind("a", 1, 0);
		sticky.bind("b", 2, 0);
		expect(sticky.get("a", 10)).toBe(1); // a is now most recent
		sticky.bind("c", 3, 10);
		expect(sticky.size).toBe(2);
		expect(sticky.get("b", 10)).toBeUndefined();
		expect(sticky.get("a", 500)).toBe(1); // refreshed: lives to 1_500
		expect(sticky.get("a", 1_499)).toBe(1);
		expect(sticky.get("c", 1_010)).toBeUndefined();
	});
});
