import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { AnthropicStreamTap, anthropicErrorEvent } from "../../../src/protocols/anthropic/stream-tap.ts";
import { SseParser } from "../../../src/sse/sse-parser.ts";

const FIXTURES = join(import.meta.dir, "fixtures");
const fixture = async (name: string) => new Uint8Array(await Bun.file(join(FIXTURES, name)).arrayBuffer());
const enc = new TextEncoder();

function feed(tap: AnthropicStreamTap, bytes: Uint8Array, cuts: number[]): Uint8Array[] {
	const out: Uint8Array[] = [];
	let prev = 0;
	for (const c of [...cuts, bytes.length]) {
		const piece = bytes.subarray(prev, c);
		const r = tap.push(piece);
		expect(r).toBe(piece);
		out.push(r);
		prev = c;
	}
	out.push(...tap.finish());
	return out;
}

// text.sse: input 25 + cache read 3000 + cache write 1200; final cumulative output 15
const TEXT_USAGE = {
	prompt_tokens: 4225,
	completion_tokens: 15,
	cached_tokens: 3000,
	cache_write_tokens: 1200,
	reasoning_tokens: 0,
	total_tokens: 4240,
};

describe("AnthropicStreamTap", () => {
	test("passes bytes through untouched and reads usage and completion", async () => {
		const bytes = await fixture("text.sse");
		const tap = new AnthropicStreamTap();
		expect(tap.usage).toBeNull();
		const out = feed(tap, bytes, [100, 101, 500]);
		expect(Buffer.concat(out).equals(Buffer.from(bytes))).toBe(true);
		expect(tap.usage).toEqual(TEXT_USAGE);
		expect(tap.completed).toBe(true);
		expect(tap.upstreamError).toBeNull();
	});

	test("the same result wherever the stream is split", async () => {
		const bytes = await fixture("text.sse");
		for (let i = 0; i <= bytes.length; i += 7) {
			const tap = new AnthropicStreamTap();
			feed(tap, bytes, [i]);
			expect(tap.usage).toEqual(TEXT_USAGE);
			expect(tap.completed).toBe(true);
		}
	});

	test("output tokens are message_delta's cumulative count, not added to message_start's", () => {
		const tap = new AnthropicStreamTap();
		tap.push(
			enc.encode(
				'event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":10,"output_tokens":1}}}\n\n',
			),
		);
		expect(tap.usage?.completion_tokens).toBe(0);
		expect(tap.usage?.prompt_tokens).toBe(10);
		tap.push(enc.encode('event: message_delta\ndata: {"type":"message_delta","usage":{"output_tokens":4}}\n\n'));
		tap.push(enc.encode('event: message_delta\ndata: {"type":"message_delta","usage":{"output_tokens":9}}\n\n'));
		expect(tap.usage).toMatchObject({
			prompt_tokens: 10,
			completion_tokens: 9,
			total_tokens: 19,
		});
		expect(tap.completed).toBe(false);
	});

	test("input usage repeated in message_delta (newer API versions) is not double counted", () => {
		const tap = new AnthropicStreamTap();
		tap.push(
			enc.encode(
				'event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":10,"cache_read_input_tokens":5,"output_tokens":1}}}\n\n' +
					'event: message_delta\ndata: {"type":"message_delta","usage":{"input_tokens":10,"cache_read_input_tokens":5,"output_tokens":7}}\n\n',
			),
		);
		expect(tap.usage).toMatchObject({
			prompt_tokens: 15,
			cached_tokens: 5,
			completion_tokens: 7,
			total_tokens: 22,
		});
	});

	test("an error event mid-stream is an upstream error; the stream is not completed", async () => {
		const bytes = await fixture("error-mid-stream.sse");
		const tap = new AnthropicStreamTap();
		feed(tap, bytes, [333]);
		expect(tap.upstreamError).toEqual({
			message: "Overloaded",
			type: "overloaded_error",
		});
		expect(tap.completed).toBe(false);
		expect(tap.usage?.prompt_tokens).toBe(12 + 2048);
	});

	test("message_stop without a final blank line completes at finish()", () => {
		const tap = new AnthropicStreamTap();
		tap.push(enc.encode('event: message_stop\ndata: {"type":"message_stop"}'));
		expect(tap.completed).toBe(false);
		expect(tap.atBoundary).toBe(false);
		expect(tap.finish()).toEqual([]);
		expect(tap.completed).toBe(true);
	});

	test("unknown events and pings are ignored", () => {
		const tap = new AnthropicStreamTap();
		tap.push(enc.encode('event: ping\ndata: {"type": "ping"}\n\nevent: future\ndata: {"type":"future_event"}\n\n'));
		expect(tap.usage).toBeNull();
		expect(tap.upstreamError).toBeNull();
		expect(tap.atBoundary).toBe(true);
	});

	test("errorEvent is an Anthropic error event", () => {
		const tap = new AnthropicStreamTap();
		const [ev] = new SseParser().push(tap.errorEvent("stream broke"));
		expect(ev.event).toBe("error");
		expect(JSON.parse(ev.data)).toEqual({
			type: "error",
			error: { type: "api_error", message: "stream broke" },
		});
		const [typed] = new SseParser().push(anthropicErrorEvent("busy", "overloaded_error"));
		expect(JSON.parse(typed.data).error.type).toBe("overloaded_error");
	});
});
