import { describe, expect, test } from "bun:test";
import { extractOpenAIUsage, extractUsageText } from "../../../src/protocols/openai/usage.ts";
import { usageFromOpenAI } from "../../../src/usage/token-usage.ts";

const chat = (extra: Record<string, unknown>) =>
	JSON.stringify({
		id: "chatcmpl-1",
		object: "chat.completion",
		choices: [
			{
				index: 0,
				message: { role: "assistant", content: "hi" },
				finish_reason: "stop",
			},
		],
		...extra,
	});

describe("extractUsageText", () => {
	test("slices the usage object out of a chat completion", () => {
		const usage = { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 };
		expect(JSON.parse(extractUsageText(chat({ usage })) ?? "null")).toEqual(usage);
	});

	test("strings with braces and escaped quotes inside the usage object do not end it early", () => {
		const usage = {
			prompt_tokens: 1,
			note: 'a } tricky "\\" {string}',
			nested: { x: "}" },
			completion_tokens: 2,
		};
		const text = JSON.stringify({ usage });
		expect(JSON.parse(extractUsageText(text) ?? "null")).toEqual(usage);
	});

	test('the last "usage" key wins (content before it may mention usage)', () => {
		const text = chat({
			choices: [
				{
					index: 0,
					message: {
						role: "assistant",
						content: 'my "usage": {"prompt_tokens": 999}',
					},
				},
			],
			usage: { prompt_tokens: 4, completion_tokens: 1, total_tokens: 5 },
		});
		expect(JSON.parse(extractUsageText(text) ?? "null").prompt_tokens).toBe(4);
	});

	test("null when there is no usage object", () => {
		expect(extractUsageText(chat({}))).toBeNull();
		expect(extractUsageText(chat({ usage: null }))).toBeNull();
		expect(extractUsageText('{"usage": {"prompt_tokens": 1')).toBeNull();
		expect(extractUsageText('{"usage" x {}}')).toBeNull();
	});

	test("whitespace between the key, the colon and the object is allowed", () => {
		expect(extractUsageText('{"usage" :\n {"prompt_tokens":2}}')).toBe('{"prompt_tokens":2}');
	});
});

describe("extractOpenAIUsage", () => {
	test("chat usage with cached and reasoning details", () => {
		const text = chat({
			usage: {
				prompt_tokens: 100,
				completion_tokens: 40,
				total_tokens: 140,
				prompt_tokens_details: { cached_tokens: 64 },
				completion_tokens_details: { reasoning_tokens: 16 },
			},
		});
		expect(extractOpenAIUsage(text)).toEqual({
			prompt_tokens: 100,
			completion_tokens: 40,
			total_tokens: 140,
			cached_tokens: 64,
			cache_write_tokens: 0,
			reasoning_tokens: 16,
		});
	});

	test("embeddings: a big body of floats before the usage", () => {
		const data = Array.from({ length: 2000 }, (_, i) => ({
			object: "embedding",
			index: i,
			embedding: [0.1, -0.2, 3e-5],
		}));
		const text = JSON.stringify({
			object: "list",
			data,
			model: "e",
			usage: { prompt_tokens: 8, total_tokens: 8 },
		});
		expect(extractOpenAIUsage(text)).toMatchObject({
			prompt_tokens: 8,
			completion_tokens: 0,
			total_tokens: 8,
		});
	});

	test("Responses API shape (input/output tokens)", () => {
		const text = JSON.stringify({
			id: "resp_1",
			object: "response",
			output: [
				{
					type: "message",
					content: [{ type: "output_text", text: "{ not } usage" }],
				},
			],
			usage: {
				input_tokens: 30,
				input_tokens_details: { cached_tokens: 10 },
				output_tokens: 12,
				output_tokens_details: { reasoning_tokens: 5 },
				total_tokens: 42,
			},
		});
		expect(extractOpenAIUsage(text)).toEqual({
			prompt_tokens: 30,
			completion_tokens: 12,
			total_tokens: 42,
			cached_tokens: 10,
			cache_write_tokens: 0,
			reasoning_tokens: 5,
		});
	});

	test("total is computed when the upstream leaves it out", () => {
		expect(extractOpenAIUsage('{"usage":{"prompt_tokens":3,"completion_tokens":4}}')?.total_tokens).toBe(7);
	});

	test("usage absent → null", () => {
		expect(extractOpenAIUsage(chat({}))).toBeNull();
		expect(extractOpenAIUsage(chat({ usage: null }))).toBeNull();
		expect(extractOpenAIUsage("not json at all")).toBeNull();
		expect(extractOpenAIUsage("")).toBeNull();
	});
});

describe("usageFromOpenAI", () => {
	test("keeps token counts storable: whole (rounded), non-negative, at most 2^31-1", () => {
		const u = usageFromOpenAI({ prompt_tokens: 1.7, completion_tokens: -3, total_tokens: 1e30 });
		expect(u?.prompt_tokens).toBe(2);
		expect(u?.completion_tokens).toBe(0);
		expect(u?.total_tokens).toBe(2 ** 31 - 1);
		expect(usageFromOpenAI({ prompt_tokens: Number.NaN, completion_tokens: "7" })?.prompt_tokens).toBe(0);
	});
});
