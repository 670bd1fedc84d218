import { SseFramer } from "../../sse/sse-framer.ts";
import type { StreamTransform } from "../../streaming/stream-transform.ts";
import type { TokenUsage } from "../../usage/token-usage.ts";
import { inspectOpenAIEvent, lastUsageObject, type OpenAIStreamFacts, openAIErrorEvent } from "./stream-tap.ts";

/** Bytes kept from the end of the stream: the usage chunk, [DONE] and a closing error fit easily. */
const TAIL_BYTES = 16 * 1024;
/** How much of the end the quick read decodes: a usage chunk and [DONE] take ~300 bytes. */
const QUICK_BYTES = 2048;

/**
 * The cheapest tap, for chat and completions streams whose client asked for usage itself:
 * nothing is decoded while the stream flows. Chunks go to the client as they are, and only
 * the last few kilobytes are kept, because the facts the gateway needs sit at the end (the
 * usage chunk, `[DONE]`, or the error event that ends a broken stream). They are read when
 * someone asks (the relay does at the end), from the kept tail.
 */
export class OpenAITailTap implements StreamTransform {
	private tail: Uint8Array[] = [];
	private tailBytes = 0;
	/** The tail no longer starts at the stream's first byte. */
	private truncated = false;
	private ended = false;
	private dirty = false;
	private prevLast = -1;
	private readonly facts: OpenAIStreamFacts = { usage: null, completed: false, upstreamError: null };
	atBoundary = true;

	push(chunk: Uint8Array): Uint8Array {
		const n = chunk.byteLength;
		if (n === 0) return chunk;
		this.tail.push(chunk);
		this.tailBytes += n;
		while (this.tail.length > 1 && this.tailBytes - this.tail[0].byteLength >= TAIL_BYTES) {
			this.tailBytes -= (this.tail.shift() as Uint8Array).byteLength;
			this.truncated = true;
		}
		const last = chunk[n - 1];
		const before = n >= 2 ? chunk[n - 2] : this.prevLast;
		// conservative: only a plain LF LF or CRLF CRLF ending counts as an event boundary
		this.atBoundary =
			(last === 10 && before === 10) ||
			(n >= 4 && last === 10 && before === 13 && chunk[n - 3] === 10 && chunk[n - 4] === 13);
		this.prevLast = last;
		this.dirty = true;
		return chunk;
	}

	finish(): Uint8Array[] {
		this.ended = true;
		this.dirty = true;
		return [];
	}

	errorEvent(message: string, code: string): Uint8Array {
		return openAIErrorEvent(message, code);
	}

	get usage(): TokenUsage | null {
		return this.read().usage;
	}

	get completed(): boolean {
		return this.read().completed;
	}

	get upstreamError(): { message: string; type?: string } | null {
		return this.read().upstreamError;
	}

	/** Re-reads the kept tail once per change: events in order, the last word wins. */
	private read(): OpenAIStreamFacts {
		if (!this.dirty) return this.facts;
		this.dirty = false;
		this.facts.usage = null;
		this.facts.completed = false;
		this.facts.upstreamError = null;
		if (!this.readUsualEnding()) this.readAll();
		return this.facts;
	}

	/**
	 * The usual ending — a usage chunk, then `[DONE]`, no error — found with a few searches in
	 * the last kilobytes, without framing and inspecting every event. False when the ending is
	 * anything else; then the whole kept tail is read.
	 */
	private readUsualEnding(): boolean {
		let from = this.tail.length;
		let bytes = 0;
		while (from > 0 && bytes < QUICK_BYTES) bytes += this.tail[--from].byteLength;
		const wholeStream = from === 0 && !this.truncated;
		const decoder = new TextDecoder();
		let text = "";
		for (let i = from; i < this.tail.length; i++) text += decoder.decode(this.tail[i], { stream: true });
		text += decoder.decode();
		if (text.includes('"error"') || text.includes("\r")) return false;
		const done = text.lastIndexOf("data: [DONE]");
		if (done !== -1) {
			const after = text.slice(done + 12);
			if (after === "\n\n" || (this.ended && (after === "" || after === "\n"))) this.facts.completed = true;
			else return false;
		}
		const at = lastUsageObject(text);
		if (at === -1) return wholeStream;
		const start = text.lastIndexOf("\n\n", at);
		if (start === -1 && !wholeStream) return false;
		const end = text.indexOf("\n\n", at);
		if (end === -1 && !this.ended) return false;
		inspectOpenAIEvent(text.slice(start === -1 ? 0 : start + 2, end === -1 ? text.length : end + 2), this.facts);
		return this.facts.usage !== null;
	}

	private readAll(): void {
		const framer = new SseFramer();
		let skipFirst = this.truncated;
		const inspect = (event: string) => {
			// a truncated tail starts inside some event: that fragment is not an event
			if (skipFirst) {
				skipFirst = false;
				return;
			}
			inspectOpenAIEvent(event, this.facts);
		};
		for (const c of this.tail) for (const ev of framer.push(c)) inspect(ev);
		if (this.ended) {
			const rest = framer.rest();
			if (rest.trim()) inspect(rest);
		}
	}
}
