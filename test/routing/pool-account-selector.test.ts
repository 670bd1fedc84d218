import { describe, expect, test } from "bun:test";
import type { ProviderRuntime } from "../../src/providers/provider-registry.ts";
import { AccountHealth } from "../../src/routing/account-health.ts";
import { AccountStateTable } from "../../src/routing/account-state-table.ts";
import { ModelLanes } from "../../src/routing/model-lanes.ts";
import { createPoolAccountSelector } from "../../src/routing/pool-account-selector.ts";
import { StickySessions } from "../../src/routing/sticky-sessions.ts";
import { account, manualClock } from "./support/fixtures.ts";

describe("createPoolAccountSelector", () => {
	test("picks per provider strategy, balances acquire/release, reports outcomes", () => {
		const table = AccountStateTable.create(16);
		const clock = manualClock();
		const accounts = [account(table, "a", { maxConcurrency: 1 }), account(table, "b")];
		const provider = {
			name: "openai",
			strategy: "first_available",
			accounts,
		} as unknown as ProviderRuntime;
		const selector = createPoolAccountSelector({
			health: new AccountHealth(table),
			lanes: new ModelLanes(AccountStateTable.create(16), table),
			sticky: new StickySessions(),
			now: clock.now,
		});
		const a = selector.pick(provider, "m", new Set());
		expect(a?.name).toBe("a");
		if (!a) throw new Error("unreachable");
		selector.acquire(a);
		selector.acquire(a); // over the cap: still counted so release stays balanced
		expect(table.inflight(a.slot)).toBe(2);
		selector.release(a);
		selector.release(a);
		expect(table.inflight(a.slot)).toBe(0);

		selector.report(a, "m", { kind: "rate_limited", retryAfterMs: 1_500 });
		expect(selector.pick(provider, "m", new Set())?.name).toBe("b");
		expect(selector.pick(provider, "other", new Set())?.name).toBe("a");
		expect(selector.pick(provider, "m", new Set([accounts[1].slot]))).toBeNull();
		expect(selector.unavailable(provider, "m")).toEqual({ reason: "cooling_down", retryAfterMs: 1_500 });
	});
});
