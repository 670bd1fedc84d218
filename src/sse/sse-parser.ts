/** One server-sent event. `event` is absent when the stream used the default ("message"). */
export interface SseEvent {
	event?: string;
	data: string;
}

const decoder = () => new TextDecoder("utf-8", { fatal: false });

/**
 * Incremental SSE parser (WHATWG event-stream rules: LF/CRLF/CR line ends, multi-line data
 * joined by "\n", comment lines ignored). Feed it bytes as they come; it returns the events
 * completed by each chunk.
 */
export class SseParser {
	private readonly dec = decoder();
	private buf = "";
	private eventName: string | undefined;
	private data: string[] = [];

	push(chunk: Uint8Array | string): SseEvent[] {
		this.buf += typeof chunk === "string" ? chunk : this.dec.decode(chunk, { stream: true });
		return this.drain(false);
	}

	/** Flushes a final event that had no trailing blank line. */
	end(): SseEvent[] {
		this.buf += this.dec.decode();
		const out = this.drain(true);
		if (this.data.length > 0) out.push(this.take());
		return out;
	}

	private drain(final: boolean): SseEvent[] {
		const out: SseEvent[] = [];
		let start = 0;
		const buf = this.buf;
		for (;;) {
			let i = start;
			while (i < buf.length && buf.charCodeAt(i) !== 10 && buf.charCodeAt(i) !== 13) i++;
			if (i >= buf.length) break;
			// a lone CR at the very end may be the first half of CRLF: wait for more bytes
			if (buf.charCodeAt(i) === 13 && i + 1 >= buf.length && !final) break;
			const line = buf.slice(start, i);
			start = buf.charCodeAt(i) === 13 && buf.charCodeAt(i + 1) === 10 ? i + 2 : i + 1;
			const ev = this.line(line);
			if (ev) out.push(ev);
		}
		this.buf = buf.slice(start);
		if (final && this.buf.length > 0) {
			const ev = this.line(this.buf);
			this.buf = "";
			if (ev) out.push(ev);
		}
		return out;
	}

	private line(line: string): SseEvent | null {
		if (line === "") return this.data.length > 0 || this.eventName ? this.take() : null;
		if (line.charCodeAt(0) === 58) return null; // ":" comment
		const colon = line.indexOf(":");
		const field = colon === -1 ? line : line.slice(0, colon);
		let value = colon === -1 ? "" : line.slice(colon + 1);
		if (value.charCodeAt(0) === 32) value = value.slice(1);
		if (field === "data") this.data.push(value);
		else if (field === "event") this.eventName = value;
		return null;
	}

	private take(): SseEvent {
		const ev: SseEvent = { data: this.data.join("\n") };
		if (this.eventName) ev.event = this.eventName;
		this.data = [];
		this.eventName = undefined;
		return ev;
	}
}

const enc = new TextEncoder();

/** Serialises one event the way upstreams write them. */
export function formatSse(data: string, event?: string): Uint8Array {
	return enc.encode(event ? `event: ${event}\ndata: ${data}\n\n` : `data: ${data}\n\n`);
}
