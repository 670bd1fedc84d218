import { describe, expect, test } from "bun:test";
import type { PriceLookup, UsageSink } from "../../src/usage/request-record.ts";
import { RequestRecord } from "../../src/usage/request-record.ts";
import type { TokenUsage } from "../../src/usage/token-usage.ts";
import type { UsageEvent } from "../../src/usage/usage-event.ts";

function harness(pricePerToken = 0.001) {
	const written: UsageEvent[] = [];
	const heard: UsageEvent[] = [];
	const priceCalls: { model: string; usage: TokenUsage }[] = [];
	const sink: UsageSink = { write: (e) => written.push({ ...e }) };
	const prices: PriceLookup = {
		costUsd(model, usage) {
			priceCalls.push({ model, usage });
			return (usage.prompt_tokens + usage.completion_tokens) * pricePerToken;
		},
	};
	const listeners = [(e: UsageEvent) => heard.push(e), (e: UsageEvent) => heard.push(e)];
	return { written, heard, priceCalls, sink, prices, listeners };
}

const USAGE: TokenUsage = {
	prompt_tokens: 100,
	completion_tokens: 20,
	cached_tokens: 30,
	cache_write_tokens: 5,
	reasoning_tokens: 7,
	total_tokens: 120,
};

function record(h: ReturnType<typeof harness>, startedAt = performance.now()) {
	return new RequestRecord(h.sink, h.prices, h.listeners, {
		requestId: "req_1",
		clientRequestId: "client-1",
		endpoint: "/v1/chat/completions",
		userAgent: "openai-node",
		startedAt,
	});
}

describe("RequestRecord", () => {
	test("starts as an empty event with the request's identity", () => {
		const h = harness();
		const r = record(h);
		expect(r.isFinished).toBe(false);
		expect(r.event).toMatchObject({
			request_id: "req_1",
			client_request_id: "client-1",
			endpoint: "/v1/chat/completions",
			user_agent: "openai-node",
			status: 0,
			cost_usd: 0,
			incomplete: false,
		});
		expect(Math.abs(r.event.ts - Date.now())).toBeLessThan(5_000);
	});

	test("finish emits exactly once, even when called twice", () => {
		const h = harness();
		const r = record(h);
		r.event.model = "gpt-4o";
		r.finish(200, null, USAGE);
		r.finish(500, "PLATFORM_INTERNAL_ERROR", null);
		expect(r.isFinished).toBe(true);
		expect(h.written).toHaveLength(1);
		expect(h.written[0].status).toBe(200);
		expect(h.written[0].error_code).toBeNull();
		// both listeners heard it, once each
		expect(h.heard).toHaveLength(2);
		expect(h.heard[0]).toBe(h.heard[1]);
		expect(h.heard[0].status).toBe(200);
	});

	test("usage and cost (through the PriceLookup, with the model)", () => {
		const h = harness(0.5);
		const r = record(h);
		r.finish(200, null, USAGE, {
			model: "gpt-4o",
			provider: "openai",
			account: "a1",
			attempts: 2,
			stream: true,
		});
		const ev = h.written[0];
		expect(ev).toMatchObject({
			prompt_tokens: 100,
			completion_tokens: 20,
			cached_tokens: 30,
			cache_write_tokens: 5,
			reasoning_tokens: 7,
			total_tokens: 120,
			model: "gpt-4o",
			provider: "openai",
			account: "a1",
			attempts: 2,
			stream: true,
		});
		expect(h.priceCalls).toEqual([{ model: "gpt-4o", usage: USAGE }]);
		expect(ev.cost_usd).toBe(60);
	});

	test("total tokens fall back to prompt + completion when the upstream sent none", () => {
		const h = harness();
		const r = record(h);
		r.finish(200, null, { ...USAGE, total_tokens: 0 }, { model: "m" });
		expect(h.written[0].total_tokens).toBe(120);
	});

	test("no cost without a model, and no usage leaves zeros", () => {
		const h = harness();
		record(h).finish(200, null, USAGE);
		expect(h.priceCalls).toEqual([]);
		expect(h.written[0].cost_usd).toBe(0);
		expect(h.written[0].prompt_tokens).toBe(100);

		const h2 = harness();
		record(h2).finish(502, "UPSTREAM_SERVER_ERROR", null, {
			model: "m",
			incomplete: true,
		});
		expect(h2.priceCalls).toEqual([]);
		expect(h2.written[0]).toMatchObject({
			status: 502,
			error_code: "UPSTREAM_SERVER_ERROR",
			prompt_tokens: 0,
			total_tokens: 0,
			cost_usd: 0,
			incomplete: true,
		});
	});

	test("latency is measured from startedAt", () => {
		const h = harness();
		const r = record(h, performance.now() - 250);
		r.finish(200, null, null);
		expect(h.written[0].latency_ms).toBeGreaterThanOrEqual(250);
		expect(h.written[0].latency_ms).toBeLessThan(250 + 5_000);
		expect(Number.isInteger(h.written[0].latency_ms)).toBe(true);
	});

	test("status and error code given to finish win over extra", () => {
		const h = harness();
		record(h).finish(429, "PLATFORM_RATE_LIMITED", null, {
			status: 200,
			error_code: null,
		});
		expect(h.written[0].status).toBe(429);
		expect(h.written[0].error_code).toBe("PLATFORM_RATE_LIMITED");
	});
});
