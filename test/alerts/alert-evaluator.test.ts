import { describe, expect, test } from "bun:test";
import { type AccountReading, AlertEvaluator, type BudgetReading } from "../../src/alerts/alert-evaluator.ts";
import { parseAlertsPolicy } from "../../src/config/alerts-config.ts";
import { emptyAuditStats } from "../../src/usage/audit-protocol.ts";

const policy = parseAlertsPolicy({
	error_rate_threshold: 0.5,
	error_rate_min_requests: 10,
	error_rate_window_ms: 60_000,
});
const budget = (spentUsd: number, extra: Partial<BudgetReading> = {}): BudgetReading => ({
	subject: "key:k1",
	budgetUsd: 1,
	spentUsd,
	period: "total",
	periodStart: -1,
	...extra,
});
const account = (extra: Partial<AccountReading> = {}): AccountReading => ({
	account: "p/a",
	disables: 0,
	ejections: 0,
	attempts: 0,
	failures: 0,
	disabledStatus: 0,
	...extra,
});
const run = (
	e: AlertEvaluator,
	input: {
		now?: number;
		budgets?: BudgetReading[];
		accounts?: AccountReading[];
		audit?: Partial<ReturnType<typeof emptyAuditStats>>;
	},
) =>
	e.evaluate({
		now: input.now ?? 0,
		budgets: input.budgets ?? [],
		accounts: input.accounts ?? [],
		audit: { ...emptyAuditStats(), ...input.audit },
	});

describe("AlertEvaluator", () => {
	test("each budget level fires once per crossing; a new period re-arms; a start does not repeat old crossings", () => {
		const e = new AlertEvaluator(policy);
		run(e, {});
		expect(run(e, { budgets: [budget(0.3)] })).toEqual([]);
		expect(run(e, { budgets: [budget(0.95)] }).map((a) => a.details.level)).toEqual([50, 80]);
		expect(run(e, { budgets: [budget(0.97)] })).toEqual([]);
		expect(run(e, { budgets: [budget(1)] }).map((a) => a.details.level)).toEqual([100]);
		const day = { period: "day" as const, periodStart: 100 };
		expect(run(e, { budgets: [budget(0.6, day)] }).map((a) => a.details.level)).toEqual([50]);
		expect(run(e, { budgets: [budget(0.6, { ...day, periodStart: 101 })] }).map((a) => a.details.level)).toEqual([50]);

		const restarted = new AlertEvaluator(policy);
		expect(run(restarted, { budgets: [budget(0.85)] })).toEqual([]);
		expect(run(restarted, { budgets: [budget(1.2)] }).map((a) => a.details.level)).toEqual([100]);
	});

	test("a disable and an ejection fire once each, from the counters", () => {
		const e = new AlertEvaluator(policy);
		expect(run(e, { accounts: [account()] })).toEqual([]);
		const disabled = run(e, { accounts: [account({ disables: 1, disabledStatus: 403 })] });
		expect(disabled.map((a) => [a.event, a.details.status])).toEqual([["account_disabled", 403]]);
		expect(run(e, { accounts: [account({ disables: 1, disabledStatus: 403 })] })).toEqual([]);
		expect(run(e, { accounts: [account({ disables: 1, ejections: 1 })] }).map((a) => a.event)).toEqual([
			"account_ejected",
		]);
	});

	test("an error rate over the threshold fires once, and again only after it dropped below", () => {
		const e = new AlertEvaluator(policy);
		run(e, { now: 0, accounts: [account()] });
		expect(run(e, { now: 1_000, accounts: [account({ attempts: 5, failures: 5 })] })).toEqual([]); // too few
		const high = run(e, { now: 2_000, accounts: [account({ attempts: 20, failures: 15 })] });
		expect(high.map((a) => [a.event, a.details.error_rate])).toEqual([["error_rate", 0.75]]);
		expect(run(e, { now: 3_000, accounts: [account({ attempts: 30, failures: 25 })] })).toEqual([]);
		// the window slides: the failures leave it, the rate drops, the alert re-arms
		expect(run(e, { now: 70_000, accounts: [account({ attempts: 100, failures: 25 })] })).toEqual([]);
		expect(run(e, { now: 200_000, accounts: [account({ attempts: 200, failures: 125 })] }).map((a) => a.event)).toEqual(
			["error_rate"],
		);
	});

	test("a growing spool fires once until it is empty again; new dead-lettered rows fire", () => {
		const e = new AlertEvaluator(policy);
		run(e, {});
		expect(run(e, { audit: { rowsSpooled: 10, spoolPending: 10 } }).map((a) => a.event)).toEqual(["audit_spool"]);
		expect(run(e, { audit: { rowsSpooled: 20, spoolPending: 20 } })).toEqual([]);
		expect(run(e, { audit: { rowsSpooled: 20, spoolPending: 0 } })).toEqual([]);
		expect(run(e, { audit: { rowsSpooled: 25, spoolPending: 5 } }).map((a) => a.event)).toEqual(["audit_spool"]);
		const dl = run(e, { audit: { rowsSpooled: 25, spoolPending: 5, rowsDeadLettered: 2 } });
		expect(dl.map((a) => [a.event, a.details.rows])).toEqual([["dead_letter", 2]]);
	});
});
