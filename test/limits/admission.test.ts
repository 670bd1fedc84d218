import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createApp } from "../../src/app.ts";
import type { KeyPrincipal } from "../../src/auth/key-store.ts";
import type { Authenticator, Principal } from "../../src/auth/principal.ts";
import { buildConfig } from "../../src/config/load-config.ts";
import { GatewayError } from "../../src/errors/gateway-error.ts";
import { createAdmission, estimateUsage } from "../../src/limits/admission.ts";
import type { Admission } from "../../src/limits/admit.ts";
import { ConcurrencyCounters } from "../../src/limits/concurrency.ts";
import { DailyCounters } from "../../src/limits/daily-counters.ts";
import { LimitTable } from "../../src/limits/limit-table.ts";
import { Limiter } from "../../src/limits/limiter.ts";
import { createLogger } from "../../src/logging/logger.ts";
import { MetricsRegistry } from "../../src/metrics/registry.ts";
import { AccountStateTable } from "../../src/routing/account-state-table.ts";
import { buildGatewayDeps } from "../../src/server/build-deps.ts";
import { PriceBook } from "../../src/usage/cost.ts";
import { type MockUpstream, startMockUpstream } from "../support/mock-upstream.ts";

const LIMITS = buildConfig({}, {}).limits;

const principal = (over: Partial<KeyPrincipal> = {}): KeyPrincipal => ({
	keyId: "k1",
	tenantId: "t1",
	models: null,
	limits: null,
	tenantLimits: null,
	...over,
});

const body = {
	model: "m",
	messages: [{ role: "user", content: "hi" }],
	max_tokens: 10,
};

function setup(prices = new PriceBook([{ model: "m", input: 1_000_000, output: 1_000_000 }])) {
	const table = new LimitTable({ capacity: 64 });
	const limiter = new Limiter(table);
	const admit = createAdmission({ limiter, prices, limits: LIMITS, concurrencyWaitMs: 30 });
	const inFlight = (subject: string) => new ConcurrencyCounters(table).inFlight(table.slotFor(subject));
	const daily = (subject: string) => new DailyCounters(table).read(table.slotFor(subject));
	return { table, limiter, admit, inFlight, daily };
}

async function refusal(fn: () => unknown): Promise<GatewayError> {
	try {
		await fn();
	} catch (e) {
		if (e instanceof GatewayError) return e;
		throw e;
	}
	throw new Error("expected a refusal");
}

describe("estimateUsage", () => {
	test("prompt bytes / 4 + n × the output cap (or the uncapped fallback); nothing to generate for embeddings", () => {
		expect(estimateUsage("chat", { max_tokens: 10 }, 100, 4096)).toEqual({
			prompt: 25,
			completion: 10,
		});
		expect(estimateUsage("chat", { max_completion_tokens: 7 }, 3, 4096)).toEqual({
			prompt: 1,
			completion: 7,
		});
		expect(estimateUsage("responses", { max_output_tokens: 9 }, 0, 4096)).toEqual({
			prompt: 0,
			completion: 9,
		});
		expect(estimateUsage("chat", {}, 8, 4096)).toEqual({ prompt: 2, completion: 4096 });
		// n answers of the cap each
		expect(estimateUsage("chat", { n: 3, max_tokens: 10 }, 8, 4096)).toEqual({ prompt: 2, completion: 30 });
		expect(estimateUsage("chat", { n: 2 }, 8, 500)).toEqual({ prompt: 2, completion: 1000 });
		expect(estimateUsage("embeddings", {}, 8, 4096)).toEqual({
			prompt: 2,
			completion: 0,
		});
	});
});

describe("createAdmission", () => {
	test("static (keyless) principals pass untouched, synchronously", () => {
		const { admit } = setup();
		const a = admit({ keyId: null, tenantId: null, models: null, limits: null }, "chat", body, 10) as Admission;
		expect(a.headers).toEqual({});
	});

	test("only subjects with a limit are counted: an unlimited key or tenant takes no slot", () => {
		const { admit, table, daily } = setup();
		const a = admit(principal(), "chat", body, 4) as Admission;
		expect(a.headers).toEqual({});
		a.settle(5, 0);
		expect(table.find("key:k1")).toBe(-1);
		expect(table.find("tenant:t1")).toBe(-1);
		// a limited key under an unlimited tenant: the key is counted, the tenant is not
		(admit(principal({ limits: { rpm: 10 } }), "chat", body, 4) as Admission).settle(5, 0);
		expect(daily("key:k1").requests).toBe(1);
		expect(table.find("tenant:t1")).toBe(-1);
	});

	test("rpm: headers on every admission, then 429 PLATFORM_RATE_LIMITED with retry-after", async () => {
		const { admit } = setup();
		const p = principal({ limits: { rpm: 2 } });
		const a = admit(p, "chat", body, 10) as Admission;
		expect(a.headers?.["x-ratelimit-limit-requests"]).toBe("2");
		expect(a.headers?.["x-ratelimit-remaining-requests"]).toBe("1");
		admit(p, "chat", body, 10);
		const e = await refusal(() => admit(p, "chat", body, 10));
		expect(e.code).toBe("PLATFORM_RATE_LIMITED");
		expect(e.status).toBe(429);
		expect(e.retryable).toBe(true);
		expect(e.retryAfterSeconds).toBeGreaterThan(0);
		expect(e.headers?.["x-ratelimit-remaining-requests"]).toBe("0");
	});

	test("tpm reserves the estimate and settles to the real count", () => {
		const { admit } = setup();
		const p = principal({ limits: { tpm: 1000 } });
		// 40 bytes → 10 prompt + 10 max_tokens = 20 reserved
		const a = admit(p, "chat", body, 40) as Admission;
		expect(a.headers?.["x-ratelimit-remaining-tokens"]).toBe("980");
		a.settle(5, 0);
		const b = admit(p, "chat", body, 40) as Admission;
		expect(b.headers?.["x-ratelimit-remaining-tokens"]).toBe("975");
	});

	test("daily request quota → insufficient_quota, not retryable", async () => {
		const { admit } = setup();
		const p = principal({ limits: { quota_daily_requests: 2 } });
		(admit(p, "chat", body, 4) as Admission).settle(1, 0);
		(admit(p, "chat", body, 4) as Admission).settle(1, 0);
		const e = await refusal(() => admit(p, "chat", body, 4));
		expect(e.code).toBe("PLATFORM_QUOTA_EXCEEDED");
		expect(e.type).toBe("insufficient_quota");
		expect(e.retryable).toBe(false);
	});

	test("budget: the USD estimate is reserved, so concurrent requests cannot overshoot", async () => {
		// 1 USD per token both ways; 4 bytes → 1 prompt + 10 completion = 11 USD per request
		const { admit, daily } = setup();
		const p = principal({ limits: { budget_usd: 50 } });
		const held: Admission[] = [];
		for (let i = 0; i < 4; i++) held.push(admit(p, "chat", body, 4) as Admission);
		const e = await refusal(() => admit(p, "chat", body, 4));
		expect(e.code).toBe("PLATFORM_BUDGET_EXCEEDED");
		// real usage lower than the estimate: the rest comes back
		for (const a of held) a.settle(1, 1);
		expect(daily("key:k1").spentMicroUsd).toBe(4_000_000);
		expect(admit(p, "chat", body, 4)).toBeDefined();
	});

	test("tenant limits apply across the tenant's keys; a tenant refusal gives back what the key took", async () => {
		const { admit, daily } = setup();
		const a = principal({
			keyId: "ka",
			limits: { rpm: 100 },
			tenantLimits: { quota_daily_requests: 2 },
		});
		const b = principal({
			keyId: "kb",
			tenantLimits: { quota_daily_requests: 2 },
		});
		admit(a, "chat", body, 4);
		admit(b, "chat", body, 4);
		const e = await refusal(() => admit(a, "chat", body, 4));
		expect(e.code).toBe("PLATFORM_QUOTA_EXCEEDED");
		expect(e.message).toContain("tenant");
		expect(daily("key:ka").requests).toBe(1);
		expect(daily("tenant:t1").requests).toBe(2);
	});

	test("concurrency: waits briefly, then 429; settle frees the place exactly once", async () => {
		const { admit, inFlight } = setup();
		const p = principal({ limits: { max_concurrency: 1 } });
		const first = await admit(p, "chat", body, 4);
		expect(inFlight("key:k1")).toBe(1);
		const e = await refusal(() => admit(p, "chat", body, 4));
		expect(e.code).toBe("PLATFORM_CONCURRENCY_LIMITED");
		const waiting = admit(p, "chat", body, 4);
		first.settle(1, 0);
		first.settle(1, 0); // a second settle must not free a place twice
		const second = await waiting;
		expect(inFlight("key:k1")).toBe(1);
		second.settle(1, 0);
		expect(inFlight("key:k1")).toBe(0);
	});
});

describe("admission on the request path (every path releases the concurrency place)", () => {
	let mock: MockUpstream;
	let table: LimitTable;
	let app: ReturnType<typeof createApp>;
	const principals: Record<string, Principal> = {
		"sk-limited": principal({
			keyId: "kc",
			limits: { max_concurrency: 2, rpm: 1000 },
		}),
	};
	const auth: Authenticator = {
		authenticate(token) {
			const p = principals[token];
			if (!p) throw new GatewayError("PLATFORM_AUTH_INVALID_API_KEY", "bad key");
			return p;
		},
	};

	beforeAll(async () => {
		mock = await startMockUpstream();
		const config = buildConfig(
			{
				providers: [
					{
						name: "good",
						type: "openai",
						base_url: `${mock.url}/v1`,
						models: ["m-good"],
						api_key: "up-ok",
					},
					{
						name: "bad",
						type: "openai",
						base_url: `${mock.url}/v1`,
						models: ["m-bad"],
						api_key: "up-fail400",
					},
					{
						name: "slow",
						type: "openai",
						base_url: `${mock.url}/v1`,
						models: ["m-stall"],
						api_key: "up-stall",
					},
				],
			},
			{},
		);
		table = new LimitTable({ capacity: 64 });
		const prices = new PriceBook();
		const deps = buildGatewayDeps({
			config,
			logger: createLogger("silent"),
			accountTable: AccountStateTable.create(),
			usage: { write() {} },
			prices,
			metrics: new MetricsRegistry(),
			auth,
			admit: createAdmission({
				limiter: new Limiter(table),
				prices,
				limits: LIMITS,
				concurrencyWaitMs: 10,
			}),
		});
		app = createApp({
			...deps,
			ops: {
				version: "test",
				readiness: () => ({ checks: {} }),
				metrics: () => "",
			},
		});
	});

	afterAll(async () => {
		await mock.stop();
	});

	const inFlight = () => new ConcurrencyCounters(table).inFlight(table.slotFor("key:kc"));
	const post = (model: string, extra: Record<string, unknown> = {}, signal?: AbortSignal) =>
		app.handle(
			new Request("http://localhost/v1/chat/completions", {
				method: "POST",
				headers: {
					authorization: "Bearer sk-limited",
					"content-type": "application/json",
				},
				body: JSON.stringify({
					model,
					messages: [{ role: "user", content: "hi" }],
					max_tokens: 3,
					...extra,
				}),
				signal,
			}),
		);

	test("success carries the rate-limit headers and frees the place", async () => {
		const res = await post("m-good");
		expect(res.status).toBe(200);
		expect(res.headers.get("x-ratelimit-limit-requests")).toBe("1000");
		await res.text();
		expect(inFlight()).toBe(0);
	});

	test("an upstream error carries the headers too and frees the place", async () => {
		const res = await post("m-bad");
		expect(res.status).toBe(400);
		expect(res.headers.get("x-ratelimit-limit-requests")).toBe("1000");
		expect(inFlight()).toBe(0);
	});

	test("a completed stream frees the place when it ends", async () => {
		const res = await post("m-good", { stream: true });
		expect(res.headers.get("x-ratelimit-remaining-requests")).not.toBeNull();
		expect(inFlight()).toBe(1);
		expect(await res.text()).toContain("[DONE]");
		expect(inFlight()).toBe(0);
	});

	test("a cancelled stream frees the place", async () => {
		const res = await post("m-stall", { stream: true });
		const reader = (res.body as ReadableStream<Uint8Array>).getReader();
		await reader.read();
		expect(inFlight()).toBe(1);
		await reader.cancel();
		expect(inFlight()).toBe(0);
	});

	test("max_concurrency 2: a third concurrent request waits briefly, then gets 429", async () => {
		const a = await post("m-stall", { stream: true });
		const b = await post("m-stall", { stream: true });
		const c = await post("m-good");
		expect(c.status).toBe(429);
		const json = (await c.json()) as { error: { code: string } };
		expect(json.error.code).toBe("PLATFORM_CONCURRENCY_LIMITED");
		expect(c.headers.get("retry-after")).toBe("1");
		await a.body?.cancel();
		await b.body?.cancel();
		expect(inFlight()).toBe(0);
	});
});
