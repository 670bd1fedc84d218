import { describe, expect, test } from "bun:test";
import { AccountHealth } from "../../src/routing/account-health.ts";
import { AccountStateTable } from "../../src/routing/account-state-table.ts";

const T0 = 1_700_000_000_000;

function setup() {
	const table = AccountStateTable.create(16);
	const health = new AccountHealth(table);
	const slot = table.allocate("openai/a");
	return { table, health, slot };
}

function fail(health: AccountHealth, slot: number, now: number, times = 1) {
	for (let i = 0; i < times; i++) health.recordOutcome(slot, { kind: "server_error" }, now);
}

describe("AccountHealth", () => {
	test("success resets consecutive failures and feeds the ewma", () => {
		const { table, health, slot } = setup();
		fail(health, slot, T0, 2);
		expect(table.consecutiveFailures(slot)).toBe(2);
		health.recordOutcome(slot, { kind: "success", ttftMs: 250 }, T0);
		expect(table.consecutiveFailures(slot)).toBe(0);
		expect(table.ewmaTtftUs(slot)).toBe(250_000);
		expect(health.availability(slot, T0)).toBe("available");
		expect(table.counter(slot, "attempts")).toBe(3);
		expect(table.counter(slot, "failures")).toBe(2);
		expect(table.counter(slot, "successes")).toBe(1);
	});

	test("threshold consecutive failures eject; backoff doubles and caps", () => {
		const table = AccountStateTable.create(16);
		const health = new AccountHealth(table, {
			baseEjectionMs: 5_000,
			maxEjectionMs: 12_000,
		});
		const slot = table.allocate("openai/a");
		fail(health, slot, T0, 2);
		expect(health.availability(slot, T0)).toBe("available");
		health.recordOutcome(slot, { kind: "timeout" }, T0);
		expect(health.availability(slot, T0)).toBe("ejected");
		expect(table.ejectedUntil(slot)).toBe(T0 + 5_000);
		expect(table.counter(slot, "ejections")).toBe(1);

		// Failures while ejected (requests still in flight) do not extend it.
		health.recordOutcome(slot, { kind: "connection_error" }, T0 + 10);
		expect(table.ejectedUntil(slot)).toBe(T0 + 5_000);

		// Half-open, the probe fails: 10 s.
		let now = T0 + 5_000;
		expect(health.availability(slot, now)).toBe("half_open");
		expect(health.tryAcquireProbe(slot, now)).toBe(true);
		fail(health, slot, now);
		expect(table.ejectedUntil(slot)).toBe(now + 10_000);
		// Third in a row: capped at 12 s instead of 20 s.
		now += 10_000;
		expect(health.tryAcquireProbe(slot, now)).toBe(true);
		fail(health, slot, now);
		expect(table.ejectedUntil(slot)).toBe(now + 12_000);
		expect(table.counter(slot, "ejections")).toBe(3);

		// Probe succeeds: closed, and the backoff starts over.
		now += 12_000;
		expect(health.tryAcquireProbe(slot, now)).toBe(true);
		health.recordOutcome(slot, { kind: "success", ttftMs: 100 }, now);
		expect(health.availability(slot, now)).toBe("available");
		expect(table.ejectionStreak(slot)).toBe(0);
		fail(health, slot, now, 3);
		expect(table.ejectedUntil(slot)).toBe(now + 5_000);
	});

	test("a success in flight during an ejection does not cut it short", () => {
		const { table, health, slot } = setup();
		fail(health, slot, T0, 3);
		health.recordOutcome(slot, { kind: "success", ttftMs: 100 }, T0 + 1);
		expect(health.availability(slot, T0 + 1)).toBe("ejected");
		expect(table.consecutiveFailures(slot)).toBe(0);
	});

	test("half-open: exactly one of two workers sharing the buffer gets the probe", () => {
		const { table, health, slot } = setup();
		const other = new AccountHealth(AccountStateTable.fromBuffer(table.buffer));
		fail(health, slot, T0, 3);
		const now = T0 + 5_000;
		const wins = [health.tryAcquireProbe(slot, now), other.tryAcquireProbe(slot, now)];
		expect(wins.filter(Boolean).length).toBe(1);
		expect(health.tryAcquireProbe(slot, now + 1)).toBe(false);
		// A lease whose outcome never arrives lapses.
		const later = now + health.policy.probeLeaseMs;
		expect(other.tryAcquireProbe(slot, later)).toBe(true);
	});

	test("rate_limited cools down for retry-after, default 1 s, never shortens", () => {
		const { table, health, slot } = setup();
		health.recordOutcome(slot, { kind: "rate_limited", retryAfterMs: 7_000 }, T0);
		expect(health.availability(slot, T0 + 6_999)).toBe("cooling_down");
		expect(health.availability(slot, T0 + 7_000)).toBe("available");
		health.recordOutcome(slot, { kind: "rate_limited", retryAfterMs: null }, T0 + 100);
		expect(table.cooldownUntil(slot)).toBe(T0 + 7_000);
		health.recordOutcome(slot, { kind: "rate_limited", retryAfterMs: null }, T0 + 7_000);
		expect(table.cooldownUntil(slot)).toBe(T0 + 8_000);
		expect(table.counter(slot, "cooldowns")).toBe(3);
		expect(table.consecutiveFailures(slot)).toBe(0);
	});

	test("auth_error disables until enable()", () => {
		const { table, health, slot } = setup();
		health.recordOutcome(slot, { kind: "auth_error", status: 401 }, T0);
		expect(health.availability(slot, T0 + 3_600_000)).toBe("disabled");
		expect(table.disabledStatus(slot)).toBe(401);
		health.enable(slot);
		expect(health.availability(slot, T0)).toBe("available");
	});

	test("client_error changes nothing but the attempt count", () => {
		const { table, health, slot } = setup();
		fail(health, slot, T0, 2);
		health.recordOutcome(slot, { kind: "client_error" }, T0);
		expect(table.consecutiveFailures(slot)).toBe(2);
		expect(health.availability(slot, T0)).toBe("available");
		expect(table.ewmaTtftUs(slot)).toBe(0);
		expect(health.errorRatio(slot, T0)).toBe(1);
		expect(table.counter(slot, "attempts")).toBe(3);
		expect(table.counter(slot, "failures")).toBe(2);
	});

	test("error ratio decays once the windows pass", () => {
		const { health, slot } = setup();
		fail(health, slot, T0, 1);
		health.recordOutcome(slot, { kind: "success", ttftMs: 1 }, T0);
		expect(health.errorRatio(slot, T0)).toBe(0.5);
		expect(health.errorRatio(slot, T0 + 3 * health.policy.errorWindowMs)).toBe(0);
	});
});
