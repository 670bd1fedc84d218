import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { buildProviderSet } from "../../src/providers/provider-registry.ts";
import { AccountHealth } from "../../src/routing/account-health.ts";
import { AccountRecovery } from "../../src/routing/account-recovery.ts";
import { AccountStateTable, accountKey } from "../../src/routing/account-state-table.ts";
import { ModelLanes } from "../../src/routing/model-lanes.ts";
import { type MockUpstream, startMockUpstream } from "../support/mock-upstream.ts";
import { manualClock } from "./support/fixtures.ts";

let mock: MockUpstream;
beforeAll(async () => {
	mock = await startMockUpstream();
});
afterAll(async () => {
	await mock.stop();
});

function setup() {
	const table = AccountStateTable.create(16);
	const health = new AccountHealth(table);
	const lanes = new ModelLanes(AccountStateTable.create(16), table);
	const clock = manualClock(1_700_000_000_000);
	const set = buildProviderSet(
		[
			{
				name: "up",
				type: "openai",
				base_url: `${mock.url}/v1`,
				models: ["m"],
				headers: {},
				accounts: [{ name: "a", api_key: "sk-recheck", weight: 1, max_concurrency: 0 }],
			},
		],
		{
			strategy: "first_available",
			max_account_switches: 0,
			first_byte_timeout_ms: 1_000,
			request_timeout_ms: 1_000,
			max_retry_after_ms: 60_000,
			max_upstream_body_bytes: 32 * 1024 * 1024,
			stream_idle_timeout_ms: 120_000,
		},
		(p, a) => table.allocate(accountKey(p, a)),
	);
	const account = set.providers.get("up")?.accounts[0];
	if (!account) throw new Error("unreachable");
	const recovery = new AccountRecovery({ health, lanes, now: clock.now, recheckBaseMs: 1_000, recheckMaxMs: 4_000 });
	return { table, health, lanes, clock, set, account, recovery };
}

describe("AccountRecovery", () => {
	test("a periodic re-check (GET /models with the account's key) re-enables it, with backoff between failures", async () => {
		const { table, health, clock, set, account, recovery } = setup();
		health.recordOutcome(account.slot, { kind: "auth_error", status: 401 }, clock.now());
		mock.reset();
		mock.setBehavior("fail401");
		await recovery.recheckDue(set);
		expect(mock.countByPath("/v1/models")).toBe(0); // not due yet
		clock.advance(1_000);
		await recovery.recheckDue(set);
		expect(mock.countByPath("/v1/models")).toBe(1);
		expect(mock.requests[0].apiKey).toBe("sk-recheck");
		expect(table.disabledStatus(account.slot)).toBe(401);
		// the second re-check waits twice as long
		clock.advance(1_000);
		await recovery.recheckDue(set);
		expect(mock.countByPath("/v1/models")).toBe(1);
		mock.setBehavior(null);
		clock.advance(1_000);
		await recovery.recheckDue(set);
		expect(mock.countByPath("/v1/models")).toBe(2);
		expect(table.disabledStatus(account.slot)).toBe(0);
	});

	test("enable() clears the disable and the account's model lanes; it says whether it was disabled", () => {
		const { table, health, lanes, clock, account, recovery } = setup();
		lanes.record(account, "x", { kind: "rate_limited", retryAfterMs: 30_000 }, clock.now());
		health.recordOutcome(account.slot, { kind: "auth_error", status: 403 }, clock.now());
		expect(recovery.enable(account, "admin")).toBe(true);
		expect(table.disabledStatus(account.slot)).toBe(0);
		expect(lanes.table.cooldownUntil(lanes.find(account, "x"))).toBe(0);
		expect(recovery.enable(account, "admin")).toBe(false);
	});
});
