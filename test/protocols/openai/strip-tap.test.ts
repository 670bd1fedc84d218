import { describe, expect, test } from "bun:test";
import { OpenAIStripTap } from "../../../src/protocols/openai/strip-tap.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const base = { id: "chatcmpl-1", object: "chat.completion.chunk", created: 1700000000, model: "gpt-4o" };
const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
	`data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta, finish_reason: finish }], usage: null })}\n\n`;
const USAGE = { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 };
const USAGE_EVENT = `data: ${JSON.stringify({ ...base, choices: [], usage: USAGE })}\n\n`;
const BEFORE_USAGE = [
	chunk({ role: "assistant", content: "" }),
	chunk({ content: 'He said "usage": {x} and "choices":[] \\"error\\": {' }),
	chunk({ content: " 世界 🚀" }),
	chunk({}, "stop"),
].join("");
const DONE = "data: [DONE]\n\n";
const STREAM_BYTES = enc.encode(BEFORE_USAGE + USAGE_EVENT + DONE);
const EXPECTED = BEFORE_USAGE + DONE;

function run(tap: OpenAIStripTap, bytes: Uint8Array, cuts: number[]): string {
	const out: Uint8Array[] = [];
	let prev = 0;
	for (const c of [...cuts, bytes.length]) {
		const r = tap.push(bytes.subarray(prev, c));
		prev = c;
		if (r) out.push(r);
	}
	out.push(...tap.finish());
	return out.map((b) => dec.decode(b)).join("");
}

describe("OpenAIStripTap", () => {
	test("the usage-only chunk is removed wherever the stream is split in two", () => {
		for (let i = 0; i <= STREAM_BYTES.length; i++) {
			const tap = new OpenAIStripTap();
			const out = run(tap, STREAM_BYTES, [i]);
			if (out !== EXPECTED) throw new Error(`split at ${i}: ${JSON.stringify(out)}`);
			expect(tap.usage?.total_tokens).toBe(17);
			expect(tap.completed).toBe(true);
		}
	});

	test("split in three around the usage chunk, and one byte at a time", () => {
		const start = enc.encode(BEFORE_USAGE).length;
		const end = start + enc.encode(USAGE_EVENT).length;
		for (let i = start - 3; i <= end + 3; i++) {
			for (let j = i; j <= end + 5; j += 3) expect(run(new OpenAIStripTap(), STREAM_BYTES, [i, j])).toBe(EXPECTED);
		}
		const tap = new OpenAIStripTap();
		expect(
			run(
				tap,
				STREAM_BYTES,
				Array.from({ length: STREAM_BYTES.length - 1 }, (_, i) => i + 1),
			),
		).toBe(EXPECTED);
		expect(tap.usage?.prompt_tokens).toBe(12);
	});

	test("chunks that end on an event boundary go out as the same objects", () => {
		const tap = new OpenAIStripTap();
		for (const e of [chunk({ content: "a" }), chunk({ content: "b" }), chunk({}, "stop")]) {
			const b = enc.encode(e);
			expect(tap.push(b)).toBe(b);
		}
		expect(tap.push(enc.encode(USAGE_EVENT))).toBeNull();
		const done = enc.encode(DONE);
		expect(tap.push(done)).toBe(done);
		expect(tap.completed).toBe(true);
	});

	test("a usage chunk that still has choices is kept", () => {
		const withChoices = `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: {}, finish_reason: "stop" }], usage: USAGE })}\n\n`;
		const bytes = enc.encode(withChoices + DONE);
		const tap = new OpenAIStripTap();
		expect(run(tap, bytes, [10])).toBe(withChoices + DONE);
		expect(tap.usage?.total_tokens).toBe(17);
	});

	test("a trailing event without a blank line comes out at finish() unless it is the usage chunk", () => {
		const tail = 'data: {"partial":true}';
		expect(run(new OpenAIStripTap(), enc.encode(BEFORE_USAGE + tail), [])).toBe(BEFORE_USAGE + tail);
		const tap = new OpenAIStripTap();
		expect(run(tap, enc.encode(BEFORE_USAGE + USAGE_EVENT.trimEnd()), [])).toBe(BEFORE_USAGE);
		expect(tap.usage?.total_tokens).toBe(17);
	});

	test("a partial event is held back: the client only ever sees whole events", () => {
		const tap = new OpenAIStripTap();
		const e = enc.encode(chunk({ content: "abc" }));
		expect(tap.push(e.subarray(0, 20))).toBeNull();
		expect(tap.atBoundary).toBe(true);
		expect(dec.decode(tap.push(e.subarray(20)) as Uint8Array)).toBe(dec.decode(e));
	});

	test("CRLF streams are cut on CRLF CRLF", () => {
		const crlf = `${chunk({ content: "x" }).replace(/\n/g, "\r\n")}${USAGE_EVENT.replace(/\n/g, "\r\n")}data: [DONE]\r\n\r\n`;
		const tap = new OpenAIStripTap();
		const out = run(tap, enc.encode(crlf), [7, 90]);
		expect(out).toBe(`${chunk({ content: "x" }).replace(/\n/g, "\r\n")}data: [DONE]\r\n\r\n`);
		expect(tap.completed).toBe(true);
	});
});
