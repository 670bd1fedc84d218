import { describe, expect, test } from "bun:test";
import { formatResetDuration, rateLimitHeaders } from "../../src/limits/rate-limit-headers.ts";

describe("formatResetDuration", () => {
	test.each([
		[0, "0s"],
		[-5, "0s"],
		[120, "120ms"],
		[0.2, "1ms"],
		[999, "999ms"],
		[1000, "1s"],
		[1500, "1.5s"],
		[8640, "8.64s"],
		[60_000, "1m0s"],
		[360_000, "6m0s"],
		[3_723_000, "1h2m3s"],
		[3_600_000, "1h0m0s"],
		[90_061, "1m30.061s"],
	])("%p ms → %p", (ms, text) => {
		expect(formatResetDuration(ms)).toBe(text);
	});
});

describe("rateLimitHeaders", () => {
	test("emits both windows", () => {
		expect(
			rateLimitHeaders(
				{ limit: 60, remaining: 59, resetMs: 1000 },
				{ limit: 150_000, remaining: 149_000.7, resetMs: 400 },
			),
		).toEqual({
			"x-ratelimit-limit-requests": "60",
			"x-ratelimit-remaining-requests": "59",
			"x-ratelimit-reset-requests": "1s",
			"x-ratelimit-limit-tokens": "150000",
			"x-ratelimit-remaining-tokens": "149000",
			"x-ratelimit-reset-tokens": "400ms",
		});
	});

	test("omits windows that are not enforced and writes into a given record", () => {
		const into: Record<string, string> = { "x-request-id": "r1" };
		rateLimitHeaders(undefined, { limit: 10, remaining: -3, resetMs: 360_000 }, into);
		expect(into).toEqual({
			"x-request-id": "r1",
			"x-ratelimit-limit-tokens": "10",
			"x-ratelimit-remaining-tokens": "0",
			"x-ratelimit-reset-tokens": "6m0s",
		});
	});
});
