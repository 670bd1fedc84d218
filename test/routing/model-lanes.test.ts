import { describe, expect, test } from "bun:test";
import { AccountHealth } from "../../src/routing/account-health.ts";
import { AccountPool } from "../../src/routing/account-pool.ts";
import { AccountStateTable } from "../../src/routing/account-state-table.ts";
import { ModelLanes } from "../../src/routing/model-lanes.ts";
import { account, manualClock } from "./support/fixtures.ts";

function setup(names = ["a"], maxPerAccount?: number) {
	const table = AccountStateTable.create(16);
	const laneTable = AccountStateTable.create(64);
	const clock = manualClock(1_700_000_000_000);
	const accounts = names.map((n) => account(table, n));
	const health = new AccountHealth(table);
	const lanes = new ModelLanes(laneTable, table, {}, maxPerAccount);
	const pool = new AccountPool(accounts, table, { strategy: "first_available", now: clock.now, health, lanes });
	return { table, laneTable, clock, accounts, health, lanes, pool };
}

describe("per-(account, model) health", () => {
	test("one model's 5xx burst ejects that model only; the account serves every other model", () => {
		const { pool, accounts, clock, table } = setup();
		const [a] = accounts;
		for (let i = 0; i < 3; i++) pool.recordOutcome(a, { kind: "server_error" }, clock.now(), "x");
		expect(pool.pick({ model: "x" })).toBeNull();
		expect(pool.pick({ model: "y" })?.name).toBe("a");
		expect(table.ejectedUntil(a.slot)).toBe(0);
		// the account's totals still count the failures
		expect(table.counter(a.slot, "failures")).toBe(3);
		expect(table.counter(a.slot, "ejections")).toBe(1);
		expect(pool.unavailability({ model: "x" }).reason).toBe("ejected");
	});

	test("a 429 on one model cools that model only", () => {
		const { pool, accounts, clock } = setup();
		pool.recordOutcome(accounts[0], { kind: "rate_limited", retryAfterMs: 5_000 }, clock.now(), "x");
		expect(pool.pick({ model: "x" })).toBeNull();
		expect(pool.pick({ model: "y" })?.name).toBe("a");
		expect(pool.unavailability({ model: "x" })).toEqual({ reason: "cooling_down", retryAfterMs: 5_000 });
		clock.advance(5_000);
		expect(pool.pick({ model: "x" })?.name).toBe("a");
	});

	test("401/403 and connection failures stay account-wide", () => {
		const { pool, accounts, clock } = setup(["a", "b"]);
		const [a, b] = accounts;
		pool.recordOutcome(a, { kind: "auth_error", status: 401 }, clock.now(), "x");
		for (let i = 0; i < 3; i++) pool.recordOutcome(b, { kind: "connection_error" }, clock.now(), "x");
		expect(pool.pick({ model: "y" })).toBeNull();
		expect(pool.fallback({ model: "y" })?.name).toBe("b");
	});

	test("a half-open lane gets exactly one probe, and a success closes it", () => {
		const { pool, accounts, clock, lanes } = setup();
		const [a] = accounts;
		for (let i = 0; i < 3; i++) pool.recordOutcome(a, { kind: "server_error" }, clock.now(), "x");
		clock.advance(5_000);
		expect(pool.pick({ model: "x" })?.name).toBe("a");
		expect(pool.pick({ model: "x" })).toBeNull();
		pool.recordOutcome(a, { kind: "success", ttftMs: 10 }, clock.now(), "x");
		expect(lanes.table.ejectedUntil(lanes.find(a, "x"))).toBe(0);
		expect(pool.pick({ model: "x" })?.name).toBe("a");
	});

	test("lanes are bounded per account; a model past the bound is not tracked (never takes the account down)", () => {
		const { pool, accounts, clock, lanes } = setup(["a"], 2);
		const [a] = accounts;
		for (const model of ["m1", "m2", "m3"]) {
			for (let i = 0; i < 3; i++) pool.recordOutcome(a, { kind: "server_error" }, clock.now(), model);
		}
		expect(lanes.lanesOf("openai", "a").map((l) => l.model)).toEqual(["m1", "m2"]);
		expect(pool.pick({ model: "m3" })?.name).toBe("a");
		expect(pool.pick({ model: "other" })?.name).toBe("a");
	});

	test("a lane claimed by another worker is seen at once, though this worker cached 'no lane'", () => {
		const { accounts, clock, table, laneTable } = setup();
		const [a] = accounts;
		const here = new ModelLanes(AccountStateTable.fromBuffer(laneTable.buffer), table);
		const there = new ModelLanes(AccountStateTable.fromBuffer(laneTable.buffer), table);
		expect(here.find(a, "x")).toBe(-1);
		there.record(a, "x", { kind: "rate_limited", retryAfterMs: 1_000 }, clock.now());
		expect(here.find(a, "x")).toBe(there.find(a, "x"));
		expect(here.find(a, "x")).toBeGreaterThanOrEqual(0);
	});
});

describe("never dark: fallback", () => {
	test("every account ejected: the one whose ejection ends first", () => {
		const { pool, accounts, clock } = setup(["a", "b"]);
		const [a, b] = accounts;
		for (let i = 0; i < 3; i++) pool.recordOutcome(a, { kind: "server_error" }, clock.now(), "x");
		clock.advance(1_000);
		for (let i = 0; i < 3; i++) pool.recordOutcome(b, { kind: "server_error" }, clock.now(), "x");
		expect(pool.pick({ model: "x" })).toBeNull();
		expect(pool.fallback({ model: "x" })?.name).toBe("a");
		expect(pool.fallback({ model: "x", exclude: new Set([a.slot]) })?.name).toBe("b");
	});

	test("a cooldown from the upstream's retry-after is honoured; one without a hint is not a refusal", () => {
		const { pool, accounts, clock } = setup(["a", "b"]);
		const [a, b] = accounts;
		pool.recordOutcome(a, { kind: "rate_limited", retryAfterMs: 10_000 }, clock.now(), "x");
		expect(pool.fallback({ model: "x", exclude: new Set([b.slot]) })).toBeNull();
		pool.recordOutcome(b, { kind: "rate_limited", retryAfterMs: null }, clock.now(), "x");
		expect(pool.pick({ model: "x" })).toBeNull();
		expect(pool.fallback({ model: "x" })?.name).toBe("b");
	});

	test("disabled accounts are never a fallback", () => {
		const { pool, accounts, clock } = setup();
		pool.recordOutcome(accounts[0], { kind: "auth_error", status: 403 }, clock.now(), "x");
		expect(pool.fallback({ model: "x" })).toBeNull();
		expect(pool.unavailability({ model: "x" }).reason).toBe("disabled");
	});
});

describe("status for operators", () => {
	test("healthy, cooling, ejected and disabled, with reason, since and until", () => {
		const { pool, accounts, clock, health } = setup(["a", "b", "c"]);
		const [a, b, c] = accounts;
		const t0 = clock.now();
		pool.recordOutcome(a, { kind: "rate_limited", retryAfterMs: 2_000 }, t0);
		for (let i = 0; i < 3; i++) pool.recordOutcome(b, { kind: "connection_error" }, t0);
		pool.recordOutcome(c, { kind: "auth_error", status: 401 }, t0);
		for (let i = 0; i < 3; i++) pool.recordOutcome(c, { kind: "server_error" }, t0, "x");
		expect(health.status(a.slot, t0)).toEqual({
			state: "cooling",
			reason: "upstream_429_retry_after",
			since: t0,
			until: t0 + 2_000,
		});
		expect(health.status(b.slot, t0)).toEqual({
			state: "ejected",
			reason: "consecutive_failures",
			since: t0,
			until: t0 + 5_000,
		});
		expect(health.status(c.slot, t0)).toEqual({ state: "disabled", reason: "upstream_401", since: t0, until: null });
		const snap = pool.snapshot();
		expect(snap[2].status).toEqual({
			state: "disabled",
			reason: "upstream_401",
			since: new Date(t0).toISOString(),
			until: null,
		});
		expect(snap[2].models).toEqual([
			{
				model: "x",
				state: "ejected",
				reason: "consecutive_failures",
				since: new Date(t0).toISOString(),
				until: new Date(t0 + 5_000).toISOString(),
			},
		]);
		clock.advance(2_000);
		expect(health.status(a.slot, clock.now()).state).toBe("healthy");
	});
});
