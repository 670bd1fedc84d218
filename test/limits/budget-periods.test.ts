import { describe, expect, test } from "bun:test";
import { buildConfig } from "../../src/config/load-config.ts";
import { GatewayError } from "../../src/errors/gateway-error.ts";
import { createAdmission } from "../../src/limits/admission.ts";
import { DAY_MS, periodResetAt, periodStartDay, utcDay } from "../../src/limits/budget-periods.ts";
import { LimitTable } from "../../src/limits/limit-table.ts";
import { Limiter } from "../../src/limits/limiter.ts";
import { PriceBook } from "../../src/usage/cost.ts";

const at = (iso: string) => Date.parse(iso);

describe("budget periods on UTC boundaries", () => {
	test("a day, an ISO week from Monday, a calendar month; total never resets", () => {
		const wed = at("2026-07-15T13:00:00Z"); // a Wednesday
		expect(new Date(periodStartDay("day", utcDay(wed)) * DAY_MS).toISOString()).toBe("2026-07-15T00:00:00.000Z");
		expect(new Date(periodStartDay("week", utcDay(wed)) * DAY_MS).toISOString()).toBe("2026-07-13T00:00:00.000Z");
		expect(new Date(periodStartDay("month", utcDay(wed)) * DAY_MS).toISOString()).toBe("2026-07-01T00:00:00.000Z");
		expect(new Date(periodResetAt("day", wed) as number).toISOString()).toBe("2026-07-16T00:00:00.000Z");
		expect(new Date(periodResetAt("week", wed) as number).toISOString()).toBe("2026-07-20T00:00:00.000Z");
		expect(new Date(periodResetAt("month", wed) as number).toISOString()).toBe("2026-08-01T00:00:00.000Z");
		expect(new Date(periodResetAt("month", at("2026-12-31T23:59:59Z")) as number).toISOString()).toBe(
			"2027-01-01T00:00:00.000Z",
		);
		// a Monday starts its own week; a Sunday belongs to the week before
		expect(periodStartDay("week", utcDay(at("2026-07-13T00:00:00Z")))).toBe(utcDay(at("2026-07-13T00:00:00Z")));
		expect(periodStartDay("week", utcDay(at("2026-07-19T23:59:59Z")))).toBe(utcDay(at("2026-07-13T00:00:00Z")));
		expect(periodResetAt("total", wed)).toBeNull();
	});
});

describe("a daily budget through admission, with an injectable clock", () => {
	// $1 per request: input free, 1,000,000 USD per million output tokens, max_tokens 1
	const prices = new PriceBook([{ model: "m", input: 0, output: 1_000_000 }]);
	const body = { model: "m", messages: [], max_tokens: 1 };
	const key = (budget_period: "day" | "week" | undefined) => ({
		keyId: `k-${budget_period}`,
		tenantId: null,
		models: null,
		limits: { budget_usd: 2, ...(budget_period ? { budget_period } : {}) },
	});

	function setup(start: number) {
		let clock = start;
		const admit = createAdmission({
			limiter: new Limiter(new LimitTable({ capacity: 64 })),
			prices,
			limits: buildConfig({}, {}).limits,
			now: () => clock,
		});
		const spend = (p: ReturnType<typeof key>) => {
			const a = admit(p, "chat", body, 10, { model: "m", provider: "p" });
			if (a instanceof Promise) throw new Error("no wait expected");
			a.settle(1, 1);
		};
		const refusal = (p: ReturnType<typeof key>): GatewayError => {
			try {
				spend(p);
			} catch (e) {
				if (e instanceof GatewayError) return e;
				throw e;
			}
			throw new Error("expected a refusal");
		};
		return { spend, refusal, set: (t: number) => (clock = t) };
	}

	test("budget_period day: exhausted at 23:59:59 UTC, usable again at 00:00 UTC", () => {
		const { spend, refusal, set } = setup(at("2026-07-15T10:00:00Z"));
		const daily = key("day");
		spend(daily);
		spend(daily);
		set(at("2026-07-15T23:59:59Z"));
		const e = refusal(daily);
		expect(e.code).toBe("PLATFORM_BUDGET_EXCEEDED");
		expect(e.message).toContain("per day");
		// the wait is until midnight UTC, one second away
		expect(e.retryAfterSeconds).toBe(1);
		set(at("2026-07-16T00:00:00Z"));
		spend(daily);
		spend(daily);
		expect(refusal(daily).code).toBe("PLATFORM_BUDGET_EXCEEDED");
	});

	test("budget_period week lasts over midnight; an all-time budget never comes back", () => {
		const { spend, refusal, set } = setup(at("2026-07-15T10:00:00Z"));
		const weekly = key("week");
		const total = key(undefined);
		spend(weekly);
		spend(weekly);
		spend(total);
		spend(total);
		set(at("2026-07-16T00:00:01Z"));
		expect(refusal(weekly).code).toBe("PLATFORM_BUDGET_EXCEEDED");
		expect(refusal(total).retryAfterSeconds).toBeUndefined();
		set(at("2026-07-20T00:00:00Z")); // Monday
		spend(weekly);
		expect(refusal(total).code).toBe("PLATFORM_BUDGET_EXCEEDED");
	});
});

describe("unpriced models on a budget", () => {
	const body = { model: "nobody-prices-this", messages: [], max_tokens: 1 };
	const budgeted = { keyId: "kb", tenantId: null, models: null, limits: { budget_usd: 1 } };
	const admitWith = (refuse: boolean) =>
		createAdmission({
			limiter: new Limiter(new LimitTable({ capacity: 64 })),
			prices: new PriceBook(),
			limits: { ...buildConfig({}, {}).limits, refuse_unpriced_with_budget: refuse },
		});

	test("refused with PLATFORM_MODEL_UNPRICED by default; served at $0 when the setting is off", () => {
		const ctx = { model: body.model, provider: "p" };
		expect(() => admitWith(true)(budgeted, "chat", body, 10, ctx)).toThrow(
			expect.objectContaining({ code: "PLATFORM_MODEL_UNPRICED", status: 403 }),
		);
		expect(admitWith(false)(budgeted, "chat", body, 10, ctx)).toHaveProperty("settle");
		// a key without a budget is never refused for it
		const unbudgeted = { ...budgeted, limits: { quota_daily_tokens: 100 } };
		expect(admitWith(true)(unbudgeted, "chat", body, 10, ctx)).toHaveProperty("settle");
	});
});
