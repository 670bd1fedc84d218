import { describe, expect, test } from "bun:test";
import { countTokens as cl100k } from "gpt-tokenizer/encoding/cl100k_base";
import { countTokens as o200k } from "gpt-tokenizer/encoding/o200k_base";
import { StreamContent } from "../../src/usage/stream-content.ts";
import { normalizeUsage, tokenCount } from "../../src/usage/token-usage.ts";
import { encodingFor, estimateUsage, OTHER_MODEL_FACTOR } from "../../src/usage/usage-estimate.ts";

const enc = new TextEncoder();
const TEXT = "The lighthouse keeper counted 1,204 waves before dawn — and then stopped counting.";

describe("tokenCount and normalizeUsage: the one rule for a stored token count", () => {
	test("whole (rounded), non-negative, at most 2^31-1; anything else is 0", () => {
		expect([1.5, 2.4, -3, Number.NaN, Number.POSITIVE_INFINITY, 1e30, "7", null].map(tokenCount)).toEqual([
			2,
			2,
			0,
			0,
			2 ** 31 - 1,
			2 ** 31 - 1,
			0,
			0,
		]);
		const u = normalizeUsage({
			prompt_tokens: 4.5,
			completion_tokens: 1.2,
			cached_tokens: -1,
			cache_write_tokens: Number.NaN,
			reasoning_tokens: 0.4,
			total_tokens: 0,
		});
		expect(u).toEqual({
			prompt_tokens: 5,
			completion_tokens: 1,
			cached_tokens: 0,
			cache_write_tokens: 0,
			reasoning_tokens: 0,
			total_tokens: 6,
		});
	});
});

describe("encodingFor", () => {
	test("o200k_base for gpt-4o and later, cl100k_base for older OpenAI models, a factor for the rest", () => {
		for (const m of ["gpt-4o-mini", "openai/gpt-4.1", "o3-mini", "gpt-5", "chatgpt-4o-latest"]) {
			expect(encodingFor(m)).toEqual({ encoding: "o200k_base", factor: 1 });
		}
		for (const m of ["gpt-4", "gpt-4-turbo", "gpt-3.5-turbo", "text-embedding-3-small"]) {
			expect(encodingFor(m)).toEqual({ encoding: "cl100k_base", factor: 1 });
		}
		expect(encodingFor("claude-sonnet-4-5")).toEqual({ encoding: "o200k_base", factor: OTHER_MODEL_FACTOR });
	});
});

describe("estimateUsage (tokenizer thread)", () => {
	const body = { model: "m", messages: [{ role: "user", content: "hello there" }] };

	test("completion tokens are the tokenizer's count of the text, per model family", async () => {
		expect((await estimateUsage("gpt-4o-mini", body, TEXT, null)).completion_tokens).toBe(o200k(TEXT));
		expect((await estimateUsage("gpt-4", body, TEXT, null)).completion_tokens).toBe(cl100k(TEXT));
		expect((await estimateUsage("claude-x", body, TEXT, null)).completion_tokens).toBe(
			Math.ceil(o200k(TEXT) * OTHER_MODEL_FACTOR),
		);
	});

	test("prompt tokens come from the body's text plus the chat format's overhead; a reported prompt wins", async () => {
		const u = await estimateUsage("gpt-4o", body, "", null);
		expect(u.prompt_tokens).toBe(o200k("hello there") + 4 + 3);
		expect(u.total_tokens).toBe(u.prompt_tokens);
		const reported = { ...normalizeUsage({ prompt_tokens: 42, completion_tokens: 1 } as never), cached_tokens: 10 };
		const withStart = await estimateUsage("claude-x", body, TEXT, reported);
		expect(withStart).toMatchObject({ prompt_tokens: 42, cached_tokens: 10 });
		expect(withStart.completion_tokens).toBe(Math.ceil(o200k(TEXT) * OTHER_MODEL_FACTOR));
	});

	test("special-token text is counted as plain text, not refused", async () => {
		const u = await estimateUsage("gpt-4o", body, "a <|endoftext|> b", null);
		expect(u.completion_tokens).toBeGreaterThan(3);
	});
});

describe("StreamContent", () => {
	const feed = (frames: string[], chunkSize = 7) => {
		const c = new StreamContent();
		const bytes = enc.encode(frames.join(""));
		for (let i = 0; i < bytes.length; i += chunkSize) c.push(bytes.subarray(i, i + chunkSize));
		return c.text();
	};

	test("reads the generated text of OpenAI chat and completions, tool calls included, across split chunks", () => {
		const chunk = (delta: unknown) => `data: ${JSON.stringify({ choices: [{ index: 0, delta }] })}\n\n`;
		const text = feed([
			chunk({ role: "assistant", content: "" }),
			chunk({ content: "Hello" }),
			chunk({ content: " wörld" }),
			chunk({ tool_calls: [{ index: 0, function: { name: "lookup", arguments: '{"q":' } }] }),
			chunk({ tool_calls: [{ index: 0, function: { arguments: '"x"}' } }] }),
			`data: ${JSON.stringify({ choices: [{ index: 0, text: " legacy" }] })}\n\n`,
			`data: ${JSON.stringify({ choices: [], usage: null })}\n\n`,
			"data: [DONE]\n\n",
		]);
		expect(text).toBe('Hello wörldlookup{"q":"x"} legacy');
	});

	test("reads Anthropic deltas and Responses API deltas; a trailing partial event counts", () => {
		const ev = (name: string, data: unknown) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
		const text = feed([
			ev("message_start", { type: "message_start", message: { usage: { input_tokens: 3 } } }),
			ev("content_block_start", { type: "content_block_start", content_block: { type: "text", text: "" } }),
			ev("content_block_delta", { type: "content_block_delta", delta: { type: "text_delta", text: "One" } }),
			ev("content_block_delta", { type: "content_block_delta", delta: { type: "thinking_delta", thinking: " two" } }),
			ev("x", { type: "response.output_text.delta", delta: " three" }),
			`data: ${JSON.stringify({ choices: [{ delta: { content: " four" } }] })}`,
		]);
		expect(text).toBe("One two three four");
	});

	test("a long stream is read in pieces: the text is the same", () => {
		const frames = Array.from(
			{ length: 2_000 },
			(_, i) => `data: ${JSON.stringify({ choices: [{ delta: { content: `w${i} ` } }] })}\n\n`,
		);
		expect(feed(frames, 4096)).toBe(Array.from({ length: 2_000 }, (_, i) => `w${i} `).join(""));
	});
});
