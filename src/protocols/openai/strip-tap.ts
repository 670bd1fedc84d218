import { SseFramer } from "../../sse/sse-framer.ts";
import type { StreamTransform } from "../../streaming/stream-transform.ts";
import type { TokenUsage } from "../../usage/token-usage.ts";
import { inspectOpenAIEvent, type OpenAIStreamFacts, openAIErrorEvent } from "./stream-tap.ts";
import { OpenAITailTap } from "./tail-tap.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const LF_LF = Buffer.from("\n\n");
const CRLF_CRLF = Buffer.from("\r\n\r\n");
const USAGE_KEY = Buffer.from('"usage"');
const NO_CHOICES = [Buffer.from('"choices":[]'), Buffer.from('"choices": []')];

const view = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

/** Index just past the last event boundary in `b`, or -1. */
function lastBoundary(b: Uint8Array): number {
	const v = view(b);
	const lf = v.lastIndexOf(LF_LF);
	const crlf = v.lastIndexOf(CRLF_CRLF);
	return Math.max(lf === -1 ? -1 : lf + 2, crlf === -1 ? -1 : crlf + 4);
}

/** Cheap byte test: could this block hold a usage-only chunk (usage and no choices)? */
function mayHoldUsageOnly(b: Uint8Array): boolean {
	const v = view(b);
	return v.indexOf(USAGE_KEY) !== -1 && NO_CHOICES.some((p) => v.indexOf(p) !== -1);
}

/** The block without its usage-only events (decoded and re-encoded: happens once a stream). */
function withoutUsageOnly(block: Uint8Array): Uint8Array | null {
	const framer = new SseFramer();
	const events = framer.push(block);
	const rest = framer.rest();
	if (rest) events.push(rest);
	const scratch: OpenAIStreamFacts = { usage: null, completed: false, upstreamError: null };
	const kept = events.filter((e) => !inspectOpenAIEvent(e, scratch));
	if (kept.length === events.length) return block;
	return kept.length ? enc.encode(kept.join("")) : null;
}

/**
 * For chat/completions streams whose client did not ask for usage (the OpenAI SDK's
 * default): the gateway asked the upstream for it, so the usage-only chunk must go. Chunks
 * go out as the same objects whenever they end on an event boundary (the usual case); a
 * partial trailing event is held back until its end arrives, so the client only ever gets
 * whole events. Only a block that may hold the usage chunk (a byte search) is decoded. The
 * facts (usage, completion, errors) come from the tail of the original stream.
 */
export class OpenAIStripTap implements StreamTransform {
	private readonly facts = new OpenAITailTap();
	private carry: Uint8Array | null = null;
	/** The client only ever receives whole events. */
	readonly atBoundary = true;

	push(chunk: Uint8Array): Uint8Array | null {
		this.facts.push(chunk);
		let block = chunk;
		if (this.carry) {
			block = new Uint8Array(this.carry.byteLength + chunk.byteLength);
			block.set(this.carry, 0);
			block.set(chunk, this.carry.byteLength);
			this.carry = null;
		}
		const end = lastBoundary(block);
		if (end === -1) {
			this.carry = block === chunk ? chunk.slice() : block;
			return null;
		}
		let out = block;
		if (end < block.byteLength) {
			this.carry = block.slice(end);
			out = block.subarray(0, end);
		}
		return mayHoldUsageOnly(out) ? withoutUsageOnly(out) : out;
	}

	finish(): Uint8Array[] {
		this.facts.finish();
		const rest = this.carry;
		this.carry = null;
		if (!rest || dec.decode(rest).trim() === "") return [];
		const kept = mayHoldUsageOnly(rest) ? withoutUsageOnly(rest) : rest;
		return kept ? [kept] : [];
	}

	errorEvent(message: string, code: string): Uint8Array {
		return openAIErrorEvent(message, code);
	}

	get usage(): TokenUsage | null {
		return this.facts.usage;
	}

	get completed(): boolean {
		return this.facts.completed;
	}

	get upstreamError(): { message: string; type?: string } | null {
		return this.facts.upstreamError;
	}
}
