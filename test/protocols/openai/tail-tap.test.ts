import { describe, expect, test } from "bun:test";
import { OpenAITailTap } from "../../../src/protocols/openai/tail-tap.ts";

const enc = new TextEncoder();
const base = { id: "chatcmpl-1", object: "chat.completion.chunk", created: 1700000000, model: "gpt-4o" };
const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
	`data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta, finish_reason: finish }], usage: null })}\n\n`;
const USAGE = {
	prompt_tokens: 12,
	completion_tokens: 5,
	total_tokens: 17,
	prompt_tokens_details: { cached_tokens: 3 },
};
const USAGE_EVENT = `data: ${JSON.stringify({ ...base, choices: [], usage: USAGE })}\n\n`;
const DONE = "data: [DONE]\n\n";
const EXPECTED_USAGE = {
	prompt_tokens: 12,
	completion_tokens: 5,
	total_tokens: 17,
	cached_tokens: 3,
	cache_write_tokens: 0,
	reasoning_tokens: 0,
};

/** A stream of `n` content chunks (with look-alike keys inside the content), usage, [DONE]. */
function stream(n: number): Uint8Array {
	const parts = [chunk({ role: "assistant", content: "" })];
	for (let i = 0; i < n; i++) parts.push(chunk({ content: `word ${i} "usage": {x} \\"error\\": {` }));
	parts.push(chunk({}, "stop"), USAGE_EVENT, DONE);
	return enc.encode(parts.join(""));
}

function cutAt(bytes: Uint8Array, size: number): Uint8Array[] {
	const out: Uint8Array[] = [];
	for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, Math.min(bytes.length, i + size)));
	return out;
}

describe("OpenAITailTap", () => {
	for (const [name, n, size] of [
		["a short stream in odd pieces", 5, 37],
		["a stream far longer than the kept tail", 2_000, 997],
		["a long stream one byte at a time near the end", 300, 1],
	] as const) {
		test(`${name}: same bytes out, usage and completion found`, () => {
			const tap = new OpenAITailTap();
			const bytes = stream(n);
			for (const piece of cutAt(bytes, size)) expect(tap.push(piece)).toBe(piece);
			expect(tap.finish()).toEqual([]);
			expect(tap.completed).toBe(true);
			expect(tap.usage).toEqual(EXPECTED_USAGE);
			expect(tap.upstreamError).toBeNull();
		});
	}

	test("endings the quick read does not cover are read in full: a usage chunk larger than its window, usage after [DONE], no usage", () => {
		const bigUsage = `data: ${JSON.stringify({ ...base, id: "x".repeat(5_000), choices: [], usage: USAGE })}\n\n`;
		const long = (tail: string) => enc.encode(chunk({ content: "y".repeat(3_000) }) + tail);
		const cases: [string, boolean, typeof EXPECTED_USAGE | null][] = [
			[bigUsage + DONE, true, EXPECTED_USAGE],
			[DONE + USAGE_EVENT, true, EXPECTED_USAGE],
			[chunk({}, "stop") + DONE, true, null],
		];
		for (const [tail, completed, usage] of cases) {
			const tap = new OpenAITailTap();
			for (const piece of cutAt(long(tail), 512)) tap.push(piece);
			tap.finish();
			expect(tap.usage).toEqual(usage);
			expect(tap.completed).toBe(completed);
		}
	});

	test("facts follow the stream as it grows", () => {
		const tap = new OpenAITailTap();
		tap.push(enc.encode(chunk({ content: "hi" })));
		expect(tap.usage).toBeNull();
		expect(tap.completed).toBe(false);
		tap.push(enc.encode(USAGE_EVENT));
		expect(tap.usage).toEqual(EXPECTED_USAGE);
		expect(tap.completed).toBe(false);
		tap.push(enc.encode(DONE));
		expect(tap.completed).toBe(true);
	});

	test("an error event that ends a broken stream is seen", () => {
		const tap = new OpenAITailTap();
		tap.push(enc.encode(chunk({ content: "hi" })));
		tap.push(enc.encode('data: {"error":{"message":"overloaded","type":"server_error"}}\n\n'));
		tap.finish();
		expect(tap.upstreamError).toEqual({ message: "overloaded", type: "server_error" });
		expect(tap.completed).toBe(false);
	});

	test("[DONE] without its blank line counts once the stream ended", () => {
		const tap = new OpenAITailTap();
		tap.push(enc.encode(`${chunk({ content: "x" })}data: [DONE]`));
		expect(tap.completed).toBe(false);
		tap.finish();
		expect(tap.completed).toBe(true);
	});

	test("atBoundary only after a whole event (keepalives must not split one)", () => {
		const tap = new OpenAITailTap();
		expect(tap.atBoundary).toBe(true);
		tap.push(enc.encode("data: {"));
		expect(tap.atBoundary).toBe(false);
		tap.push(enc.encode('"a":1}\n'));
		expect(tap.atBoundary).toBe(false);
		tap.push(enc.encode("\n"));
		expect(tap.atBoundary).toBe(true);
		tap.push(enc.encode("data: x\r\n\r\n"));
		expect(tap.atBoundary).toBe(true);
	});
});
