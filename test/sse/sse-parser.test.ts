import { describe, expect, test } from "bun:test";
import { formatSse, type SseEvent, SseParser } from "../../src/sse/sse-parser.ts";

const enc = new TextEncoder();

/** Feeds `bytes` cut at the given positions and returns every event, end() included. */
function parseSplit(bytes: Uint8Array, cuts: number[]): SseEvent[] {
	const p = new SseParser();
	const out: SseEvent[] = [];
	let prev = 0;
	for (const c of [...cuts, bytes.length]) {
		out.push(...p.push(bytes.subarray(prev, c)));
		prev = c;
	}
	out.push(...p.end());
	return out;
}

function parseWhole(text: string): SseEvent[] {
	return parseSplit(enc.encode(text), []);
}

/** The same document with LF, CRLF and CR line ends. */
function variants(lfText: string): [string, string][] {
	return [
		["LF", lfText],
		["CRLF", lfText.replaceAll("\n", "\r\n")],
		["CR", lfText.replaceAll("\n", "\r")],
	];
}

// A realistic stream: comments, named events, multi-line data, multi-byte UTF-8, an empty data
// field, a field without a colon and one without the optional space.
const DOC = [
	": this is a comment",
	"",
	'data: {"id":"1","content":"héllo 世界 🚀"}',
	"",
	"event: message_start",
	'data: {"type":"message_start"}',
	"",
	": keepalive",
	"event: ping",
	"data:no-space",
	"",
	"data: line one",
	"data: line two",
	"data",
	"",
	"id: 7",
	"retry: 1000",
	"data: [DONE]",
	"",
	"",
].join("\n");

const EXPECTED: SseEvent[] = [
	{ data: '{"id":"1","content":"héllo 世界 🚀"}' },
	{ event: "message_start", data: '{"type":"message_start"}' },
	{ event: "ping", data: "no-space" },
	{ data: "line one\nline two\n" },
	{ data: "[DONE]" },
];

describe("SseParser", () => {
	for (const [name, text] of variants(DOC)) {
		test(`${name} line ends: events, comments, names, multi-line data`, () => {
			expect(parseWhole(text)).toEqual(EXPECTED);
		});

		test(`${name} line ends: split at every byte position gives the same events`, () => {
			const bytes = enc.encode(text);
			for (let i = 0; i <= bytes.length; i++) {
				expect(parseSplit(bytes, [i])).toEqual(EXPECTED);
			}
		});

		test(`${name} line ends: one byte at a time`, () => {
			const bytes = enc.encode(text);
			const cuts = Array.from({ length: bytes.length - 1 }, (_, i) => i + 1);
			expect(parseSplit(bytes, cuts)).toEqual(EXPECTED);
		});
	}

	test("events come out as soon as their blank line arrives", () => {
		const p = new SseParser();
		expect(p.push("data: a\n")).toEqual([]);
		expect(p.push("\n")).toEqual([{ data: "a" }]);
		expect(p.push("data: b\r\n")).toEqual([]);
		expect(p.push("\r\n")).toEqual([{ data: "b" }]);
	});

	test("a lone CR at a chunk end waits: CR + LF in the next chunk is one line end, not two", () => {
		const p = new SseParser();
		expect(p.push("data: a\r")).toEqual([]);
		// if the CR had been taken as a line end, this LF would be a blank line and dispatch
		expect(p.push("\n")).toEqual([]);
		expect(p.push("data: b\r\n\r\n")).toEqual([{ data: "a\nb" }]);
	});

	test("the final event without a blank line is flushed by end()", () => {
		expect(parseWhole('data: {"a":1}')).toEqual([{ data: '{"a":1}' }]);
		expect(parseWhole("event: done\ndata: x\n")).toEqual([{ event: "done", data: "x" }]);
		expect(parseWhole("data: x\r")).toEqual([{ data: "x" }]);
		const p = new SseParser();
		expect(p.push("data: tail")).toEqual([]);
		expect(p.end()).toEqual([{ data: "tail" }]);
	});

	test("only comments or blank lines give no events", () => {
		expect(parseWhole(": a\n\n: b\n\n\n\n")).toEqual([]);
		expect(parseWhole("")).toEqual([]);
	});

	test("only the first space after the colon is dropped; colons in the value stay", () => {
		expect(parseWhole("data:  two spaces\n\n")).toEqual([{ data: " two spaces" }]);
		expect(parseWhole('data: {"a":"b:c"}\n\n')).toEqual([{ data: '{"a":"b:c"}' }]);
	});

	test("unknown fields are ignored and the event name resets after each event", () => {
		expect(parseWhole("foo: bar\nevent: e1\ndata: 1\n\ndata: 2\n\n")).toEqual([
			{ event: "e1", data: "1" },
			{ data: "2" },
		]);
	});

	test("a multi-byte character split across chunks decodes intact", () => {
		const bytes = enc.encode("data: 🚀\n\n");
		// the rocket is 4 bytes starting at offset 6: cut inside it
		expect(parseSplit(bytes, [7, 8, 9])).toEqual([{ data: "🚀" }]);
	});
});

describe("formatSse", () => {
	test("writes events the parser reads back", () => {
		const bytes = new Uint8Array([...formatSse('{"a":1}'), ...formatSse("x", "ping")]);
		expect(new TextDecoder().decode(bytes)).toBe('data: {"a":1}\n\nevent: ping\ndata: x\n\n');
		expect(parseSplit(bytes, [])).toEqual([{ data: '{"a":1}' }, { event: "ping", data: "x" }]);
	});
});
