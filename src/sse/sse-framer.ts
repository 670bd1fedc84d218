const dec = () => new TextDecoder("utf-8", { fatal: false });

/**
 * Splits an SSE byte stream into whole events (the text up to and including the blank line),
 * without interpreting them. Used by taps that only need to glance at a few events.
 */
export class SseFramer {
	private readonly decoder = dec();
	private carry = "";

	/** Returns the whole events completed by this chunk, each ending with its blank line. */
	push(chunk: Uint8Array): string[] {
		const decoded = this.decoder.decode(chunk, { stream: true });
		const text = this.carry.length > 0 ? this.carry + decoded : decoded;
		const out: string[] = [];
		let start = 0;
		if (text.indexOf("\r") === -1) {
			// the common case (LF only): one native search per event
			for (;;) {
				const k = text.indexOf("\n\n", start);
				if (k === -1) break;
				out.push(text.slice(start, k + 2));
				start = k + 2;
			}
		} else {
			for (;;) {
				const end = findBoundary(text, start);
				if (end === -1) break;
				out.push(text.slice(start, end));
				start = end;
			}
		}
		this.carry = start === 0 ? text : text.slice(start);
		return out;
	}

	/** Whatever was left without a closing blank line. */
	rest(): string {
		const r = this.carry + this.decoder.decode();
		this.carry = "";
		return r;
	}

	get pending(): boolean {
		return this.carry.length > 0;
	}
}

/** Index just past the next blank line (\n\n, \r\n\r\n, \r\r …) at or after `from`, or -1. */
function findBoundary(text: string, from: number): number {
	if (text.indexOf("\r", from) === -1) {
		const k = text.indexOf("\n\n", from);
		return k === -1 ? -1 : k + 2;
	}
	const n = text.length;
	let i = from;
	while (i < n) {
		const c = text.charCodeAt(i);
		if (c !== 10 && c !== 13) {
			i++;
			continue;
		}
		let j = i + 1;
		if (c === 13) {
			if (j >= n) return -1; // maybe the first half of CRLF
			if (text.charCodeAt(j) === 10) j++;
		}
		if (j >= n) return -1;
		const d = text.charCodeAt(j);
		if (d === 10) return j + 1;
		if (d === 13) {
			if (j + 1 >= n) return -1;
			return text.charCodeAt(j + 1) === 10 ? j + 2 : j + 1;
		}
		i = j;
	}
	return -1;
}

/** The `data:` payload of one framed event (joined when multi-line), or null. */
export function eventData(event: string): string | null {
	// fast path: a single `data: …` line followed by the blank line
	if (event.startsWith("data: ")) {
		const nl = event.indexOf("\n");
		if (nl === event.length - 2 && event.charCodeAt(nl + 1) === 10 && event.charCodeAt(nl - 1) !== 13) {
			return event.slice(6, nl);
		}
	}
	let data: string | null = null;
	for (const line of event.split(/\r\n|\r|\n/)) {
		if (line.startsWith("data:")) {
			const v = line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5);
			data = data === null ? v : `${data}\n${v}`;
		}
	}
	return data;
}
