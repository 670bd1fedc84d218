import { describe, expect, test } from "bun:test";
import { OpenAIStreamTap } from "../../../src/protocols/openai/stream-tap.ts";
import { SseParser } from "../../../src/sse/sse-parser.ts";

const enc = new TextEncoder();

const base = {
	id: "chatcmpl-1",
	object: "chat.completion.chunk",
	created: 1700000000,
	model: "gpt-4o",
};
const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
	`data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta, finish_reason: finish }], usage: null })}\n\n`;

const USAGE = {
	prompt_tokens: 12,
	completion_tokens: 5,
	total_tokens: 17,
	prompt_tokens_details: { cached_tokens: 3 },
	completion_tokens_details: { reasoning_tokens: 2 },
};
const USAGE_EVENT = `data: ${JSON.stringify({ ...base, choices: [], usage: USAGE })}\n\n`;
const BEFORE_USAGE = [
	chunk({ role: "assistant", content: "" }),
	chunk({ content: 'He said "usage": {not json} and \\"error\\": {' }),
	chunk({ content: " 世界 🚀" }),
	chunk({}, "stop"),
].join("");
const DONE = "data: [DONE]\n\n";
const STREAM = BEFORE_USAGE + USAGE_EVENT + DONE;
const STREAM_BYTES = enc.encode(STREAM);

function concat(parts: Uint8Array[]): Uint8Array {
	const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
	let at = 0;
	for (const p of parts) {
		out.set(p, at);
		at += p.length;
	}
	return out;
}

/** Runs `bytes` through a tap cut at `cuts`; returns everything the tap emitted, finish() included. */
function run(tap: OpenAIStreamTap, bytes: Uint8Array, cuts: number[]): Uint8Array {
	const out: Uint8Array[] = [];
	let prev = 0;
	for (const c of [...cuts, bytes.length]) {
		out.push(tap.push(bytes.subarray(prev, c)));
		prev = c;
	}
	out.push(...tap.finish());
	return concat(out);
}

describe("OpenAIStreamTap pass-through", () => {
	test("every push returns the identical Uint8Array and the output is byte-identical", () => {
		const tap = new OpenAIStreamTap();
		const pieces = [0, 5, 60, 61, 200, 333, STREAM_BYTES.length - 3].map((v, i, a) =>
			STREAM_BYTES.subarray(v, a[i + 1] ?? STREAM_BYTES.length),
		);
		const out: Uint8Array[] = [];
		for (const p of pieces) {
			const r = tap.push(p);
			expect(r).toBe(p);
			out.push(r as Uint8Array);
		}
		expect(tap.finish()).toEqual([]);
		expect(concat(out)).toEqual(STREAM_BYTES);
	});

	test("usage found, completed on [DONE], no error", () => {
		const tap = new OpenAIStreamTap();
		const tail = DONE.length;
		tap.push(STREAM_BYTES.subarray(0, STREAM_BYTES.length - tail));
		expect(tap.completed).toBe(false);
		expect(tap.usage).toEqual({
			prompt_tokens: 12,
			completion_tokens: 5,
			total_tokens: 17,
			cached_tokens: 3,
			cache_write_tokens: 0,
			reasoning_tokens: 2,
		});
		tap.push(STREAM_BYTES.subarray(STREAM_BYTES.length - tail));
		expect(tap.completed).toBe(true);
		expect(tap.upstreamError).toBeNull();
	});

	test("strings that look like usage or error keys do not fool it", () => {
		const tap = new OpenAIStreamTap();
		tap.push(enc.encode(BEFORE_USAGE));
		expect(tap.usage).toBeNull();
		expect(tap.upstreamError).toBeNull();
	});

	test("an upstream in-band error is detected", () => {
		const tap = new OpenAIStreamTap();
		tap.push(enc.encode(chunk({ content: "hi" })));
		tap.push(enc.encode('data: {"error":{"message":"The server is overloaded","type":"server_error"}}\n\n'));
		expect(tap.upstreamError).toEqual({
			message: "The server is overloaded",
			type: "server_error",
		});
		expect(tap.completed).toBe(false);
	});

	test("atBoundary follows whether the last chunk ended an event", () => {
		const tap = new OpenAIStreamTap();
		expect(tap.atBoundary).toBe(true);
		tap.push(enc.encode("data: {"));
		expect(tap.atBoundary).toBe(false);
		tap.push(enc.encode('"a":1}\n\n'));
		expect(tap.atBoundary).toBe(true);
	});

	test("[DONE] without a final blank line still completes at finish()", () => {
		const tap = new OpenAIStreamTap();
		tap.push(enc.encode(`${chunk({ content: "x" })}data: [DONE]`));
		expect(tap.completed).toBe(false);
		expect(tap.finish()).toEqual([]);
		expect(tap.completed).toBe(true);
	});

	test("errorEvent is an OpenAI-shaped event: error", () => {
		const tap = new OpenAIStreamTap();
		const events = new SseParser().push(tap.errorEvent("broken", "UPSTREAM_STREAM_BROKEN"));
		expect(events).toHaveLength(1);
		expect(events[0].event).toBe("error");
		expect(JSON.parse(events[0].data)).toEqual({
			error: {
				message: "broken",
				type: "api_error",
				code: "UPSTREAM_STREAM_BROKEN",
				param: null,
			},
		});
	});
});

describe("OpenAIStreamTap with a Responses API stream", () => {
	const ev = (type: string, extra: Record<string, unknown>) =>
		`event: ${type}\ndata: ${JSON.stringify({ type, ...extra })}\n\n`;
	const RESPONSES = [
		ev("response.created", {
			response: { id: "resp_1", status: "in_progress", usage: null },
		}),
		ev("response.output_text.delta", { item_id: "msg_1", delta: "Hello" }),
		ev("response.completed", {
			response: {
				id: "resp_1",
				status: "completed",
				usage: {
					input_tokens: 20,
					input_tokens_details: { cached_tokens: 4 },
					output_tokens: 7,
					output_tokens_details: { reasoning_tokens: 1 },
					total_tokens: 27,
				},
			},
		}),
	].join("");

	test("usage from response.completed; completed without [DONE]; bytes untouched", () => {
		const tap = new OpenAIStreamTap();
		const bytes = enc.encode(RESPONSES);
		expect(run(tap, bytes, [50, 120])).toEqual(bytes);
		expect(tap.completed).toBe(true);
		expect(tap.upstreamError).toBeNull();
		expect(tap.usage).toEqual({
			prompt_tokens: 20,
			completion_tokens: 7,
			total_tokens: 27,
			cached_tokens: 4,
			cache_write_tokens: 0,
			reasoning_tokens: 1,
		});
	});

	test("not completed before the terminal event", () => {
		const tap = new OpenAIStreamTap();
		tap.push(enc.encode(RESPONSES.slice(0, RESPONSES.indexOf("event: response.completed"))));
		expect(tap.completed).toBe(false);
		expect(tap.usage).toBeNull();
	});

	test("response.incomplete also ends the stream", () => {
		const tap = new OpenAIStreamTap();
		tap.push(
			enc.encode(
				ev("response.incomplete", {
					response: { id: "r", status: "incomplete" },
				}),
			),
		);
		expect(tap.completed).toBe(true);
	});

	test("response.failed is an upstream error", () => {
		const tap = new OpenAIStreamTap();
		tap.push(
			enc.encode(
				ev("response.failed", {
					response: {
						id: "r",
						status: "failed",
						error: { code: "server_error", message: "model crashed" },
					},
				}),
			),
		);
		expect(tap.upstreamError?.message).toBe("model crashed");
	});

	test("a Responses `error` event is an upstream error", () => {
		const tap = new OpenAIStreamTap();
		tap.push(
			enc.encode(
				ev("error", {
					code: "server_error",
					message: "Something went wrong",
					param: null,
					sequence_number: 3,
				}),
			),
		);
		expect(tap.upstreamError?.message).toBe("Something went wrong");
	});
});
