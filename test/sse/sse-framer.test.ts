import { describe, expect, test } from "bun:test";
import { eventData, SseFramer } from "../../src/sse/sse-framer.ts";

const enc = new TextEncoder();

/** Pushes `text` cut at the given byte positions; returns the events and what rest() held. */
function frame(text: string, cuts: number[]): { events: string[]; rest: string } {
	const bytes = enc.encode(text);
	const f = new SseFramer();
	const events: string[] = [];
	let prev = 0;
	for (const c of [...cuts, bytes.length]) {
		events.push(...f.push(bytes.subarray(prev, c)));
		prev = c;
	}
	return { events, rest: f.rest() };
}

/**
 * The events a stream yields in full: with CR-only line ends the last blank line is a lone CR
 * that could still become CRLF, so that event is only released by rest().
 */
function whole(got: { events: string[]; rest: string }, lineEnds: string): string[] {
	if (lineEnds !== "CR") {
		expect(got.rest).toBe("");
		return got.events;
	}
	return got.rest ? [...got.events, got.rest] : got.events;
}

const EVENTS_LF = [
	'data: {"id":"a","content":"ünïcødé 🚀"}\n\n',
	'event: message_delta\ndata: {"x":1}\n\n',
	": keepalive\n\n",
	"data: [DONE]\n\n",
];

describe("SseFramer", () => {
	const cases: [string, string[]][] = [
		["LF", EVENTS_LF],
		["CRLF", EVENTS_LF.map((e) => e.replaceAll("\n", "\r\n"))],
		["CR", EVENTS_LF.map((e) => e.replaceAll("\n", "\r"))],
	];
	for (const [name, events] of cases) {
		test(`${name}: whole events, each ending with its blank line, at every split position`, () => {
			const text = events.join("");
			const n = enc.encode(text).length;
			for (let i = 0; i <= n; i++) {
				const got = frame(text, [i]);
				expect(whole(got, name)).toEqual(events);
			}
		});

		test(`${name}: one byte at a time`, () => {
			const text = events.join("");
			const n = enc.encode(text).length;
			const got = frame(
				text,
				Array.from({ length: n - 1 }, (_, i) => i + 1),
			);
			expect(whole(got, name)).toEqual(events);
		});
	}

	test("CR only: a final CR may be half of CRLF, so the last event waits for rest()", () => {
		const f = new SseFramer();
		expect(f.push(enc.encode("data: a\r\rdata: b\r\r"))).toEqual(["data: a\r\r"]);
		expect(f.rest()).toBe("data: b\r\r");
	});

	test("mixed line ends: CRLF line then LF blank line is a boundary", () => {
		expect(frame("data: a\r\n\ndata: b\n\r\n", []).events).toEqual(["data: a\r\n\n", "data: b\n\r\n"]);
	});

	test("a trailing CR waits for the next byte (it may be half of CRLF)", () => {
		const f = new SseFramer();
		expect(f.push(enc.encode("data: a\r\n\r"))).toEqual([]);
		expect(f.pending).toBe(true);
		expect(f.push(enc.encode("\ndata: b"))).toEqual(["data: a\r\n\r\n"]);
		expect(f.pending).toBe(true);
		expect(f.rest()).toBe("data: b");
		expect(f.pending).toBe(false);
	});

	test("pending and rest() for an event without its blank line", () => {
		const f = new SseFramer();
		expect(f.pending).toBe(false);
		expect(f.push(enc.encode("data: 1\n\ndata: 2\n"))).toEqual(["data: 1\n\n"]);
		expect(f.pending).toBe(true);
		expect(f.rest()).toBe("data: 2\n");
		expect(f.rest()).toBe("");
	});

	test("concatenated output is the input text", () => {
		const text = `${EVENTS_LF.join("")}data: tail`;
		const got = frame(text, [3, 17, 40, 41, 90]);
		expect(got.events.join("") + got.rest).toBe(text);
	});
});

describe("eventData", () => {
	test("the data payload, joined over lines, with any line end", () => {
		expect(eventData('data: {"a":1}\n\n')).toBe('{"a":1}');
		expect(eventData("event: x\r\ndata: one\r\ndata:two\r\n\r\n")).toBe("one\ntwo");
		expect(eventData("data: a\rdata: b\r\r")).toBe("a\nb");
	});

	test("null without a data line", () => {
		expect(eventData(": keepalive\n\n")).toBeNull();
		expect(eventData("event: ping\n\n")).toBeNull();
	});

	test("an empty data field is an empty string", () => {
		expect(eventData("data:\n\n")).toBe("");
	});
});
