import { type SseEvent, SseParser } from "../../src/sse/sse-parser.ts";

export interface StreamTranslator {
	push(ev: SseEvent): Uint8Array[];
	finish(): Uint8Array[];
}

/** A parsed output event: data is the JSON value, or the raw string when it is not JSON ([DONE]). */
export interface ParsedEvent {
	event?: string;
	data: unknown;
}

/** `openai/text.sse` → the recorded stream in `test/protocols/openai/fixtures/`, beside its adapter's tests. */
const fixtureUrl = (name: string): URL => new URL(name.replace(/^([\w-]+)\//, "$1/fixtures/"), import.meta.url);

export const fixtureBytes = async (name: string): Promise<Uint8Array> =>
	new Uint8Array(await Bun.file(fixtureUrl(name)).arrayBuffer());

export const fixtureJson = async (name: string): Promise<unknown> => Bun.file(fixtureUrl(name)).json();

/** Small seeded PRNG so a failing split can be reproduced. */
function mulberry32(seed: number): () => number {
	let a = seed;
	return () => {
		a = (a + 0x6d2b79f5) | 0;
		let t = Math.imul(a ^ (a >>> 15), 1 | a);
		t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

export type Split = { name: string; split: (b: Uint8Array) => Uint8Array[] };

/** Whole body, 1-byte pieces, cuts inside every CR/LF pair and multi-byte char, and seeded random cuts. */
export const SPLITS: Split[] = [
	{ name: "whole", split: (b) => [b] },
	{
		name: "1-byte",
		split: (b) => Array.from(b, (_, i) => b.subarray(i, i + 1)),
	},
	{
		name: "at every newline and inside utf-8",
		split: (b) => {
			const cuts = [0];
			b.forEach((byte, i) => {
				if (byte === 10 || byte >= 0x80) cuts.push(i, i + 1);
			});
			cuts.push(b.length);
			const uniq = [...new Set(cuts)].sort((x, y) => x - y);
			return uniq.slice(1).map((end, i) => b.subarray(uniq[i], end));
		},
	},
	...[1, 2, 3, 42, 1337].map((seed) => ({
		name: `random seed ${seed}`,
		split: (b: Uint8Array) => {
			const rnd = mulberry32(seed);
			const out: Uint8Array[] = [];
			for (let i = 0; i < b.length; ) {
				const n = 1 + Math.floor(rnd() * 40);
				out.push(b.subarray(i, i + n));
				i += n;
			}
			return out;
		},
	})),
];

export function parseEvents(bytes: Uint8Array[]): ParsedEvent[] {
	const parser = new SseParser();
	const events = [...bytes.flatMap((b) => parser.push(b)), ...parser.end()];
	return events.map((ev) => {
		let data: unknown = ev.data;
		try {
			data = JSON.parse(ev.data);
		} catch {
			// [DONE]
		}
		return ev.event ? { event: ev.event, data } : { data };
	});
}

/** Feeds the pieces through an SseParser into the translator; returns its output bytes. */
export function replay(pieces: Uint8Array[], translator: StreamTranslator): Uint8Array[] {
	const parser = new SseParser();
	const out: Uint8Array[] = [];
	for (const piece of pieces) {
		for (const ev of parser.push(piece)) out.push(...translator.push(ev));
	}
	for (const ev of parser.end()) out.push(...translator.push(ev));
	out.push(...translator.finish());
	return out;
}

export const concat = (parts: Uint8Array[]): Uint8Array => {
	const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
	let at = 0;
	for (const p of parts) {
		out.set(p, at);
		at += p.length;
	}
	return out;
};
