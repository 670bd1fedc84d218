import { describe, expect, test } from "bun:test";
import { PriceBook } from "../../src/usage/cost.ts";
import { emptyUsage } from "../../src/usage/token-usage.ts";

const usage = (over: Partial<ReturnType<typeof emptyUsage>>) => ({
	...emptyUsage(),
	...over,
});

describe("PriceBook", () => {
	const book = new PriceBook([
		{ model: "gpt-4o-mini", input: 0.15, output: 0.6, cached_input: 0.075 },
		{
			model: "claude-sonnet",
			input: 3,
			output: 15,
			cached_input: 0.3,
			cache_write: 3.75,
		},
		{ model: "plain", input: 1, output: 2 },
	]);

	test("bills input and output per million tokens", () => {
		expect(book.costUsd("gpt-4o-mini", usage({ prompt_tokens: 1_000_000, completion_tokens: 1_000_000 }))).toBeCloseTo(
			0.75,
			12,
		);
	});

	test("bills cached and cache-write tokens at their own prices, the rest of the prompt at input", () => {
		const u = usage({
			prompt_tokens: 10_000,
			cached_tokens: 6_000,
			cache_write_tokens: 2_000,
			completion_tokens: 500,
		});
		// 2,000 plain × 3 + 6,000 × 0.3 + 2,000 × 3.75 + 500 × 15, per million
		expect(book.costUsd("claude-sonnet", u)).toBeCloseTo((6_000 + 1_800 + 7_500 + 7_500) / 1e6, 12);
	});

	test("cached and cache-write prices default to the input price", () => {
		const u = usage({
			prompt_tokens: 1_000,
			cached_tokens: 400,
			cache_write_tokens: 100,
			completion_tokens: 10,
		});
		expect(book.costUsd("plain", u)).toBeCloseTo((1_000 * 1 + 10 * 2) / 1e6, 12);
	});

	test("finds the bare model of provider/model; a model with no price has an unknown (null) cost", () => {
		expect(book.lookup("openai/gpt-4o-mini")?.input).toBe(0.15);
		expect(book.costUsd("nope", usage({ prompt_tokens: 100 }))).toBeNull();
		expect(book.costUsd("openai/nope", usage({ prompt_tokens: 100 }))).toBeNull();
	});

	test("the shipped catalog prices models nobody configured, with their maximum output", () => {
		const empty = new PriceBook();
		const cost = empty.costUsd("gpt-4o-mini", usage({ prompt_tokens: 1_000_000, completion_tokens: 1_000_000 }));
		expect(cost).toBeGreaterThan(0);
		expect(empty.maxOutputTokens("gpt-4o-mini")).toBeGreaterThan(0);
		for (const m of ["claude-sonnet-4-20250514", "gemini-2.5-flash", "deepseek-chat", "mistral-large-latest"]) {
			expect({ m, priced: empty.lookup(m) !== null }).toEqual({ m, priced: true });
		}
		expect(empty.lookup("llama-3.3-70b-versatile")).not.toBeNull(); // Groq
		// the config and the database override the catalog
		const book2 = new PriceBook([{ model: "gpt-4o-mini", input: 1, output: 1 }]);
		expect(book2.lookup("gpt-4o-mini")?.input).toBe(1);
		book2.set("gpt-4o-mini", { input: 2, output: 2, cached_input: null, cache_write: null });
		expect(book2.lookup("gpt-4o-mini")?.input).toBe(2);
	});

	test("database prices override the config file", () => {
		const b = new PriceBook([{ model: "m", input: 1, output: 1 }]);
		b.set("m", { input: 2, output: 4, cached_input: null, cache_write: null });
		expect(b.costUsd("m", usage({ prompt_tokens: 1e6, completion_tokens: 1e6 }))).toBeCloseTo(6, 12);
	});
});
