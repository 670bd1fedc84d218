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
		const text = this.carry + this.decoder.decode(chunk, { stream: true });
		const out: string[] = [];
		let start = 0;
		for (;;) {
			const end = findBoundary(text, start);
			if (end === -1) break;
			out.push(text.slice(start, end));
			start = end;
		}
		this.carry = text.slice(start);
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
	let data: string | null = null;
	for (const line of event.split(/\r\n|\r|\n/)) {
		if (line.startsWith("data:")) {
			const v = line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5);
			data = data === null ? v : `${data}\n${v}`;
		}
	}
	return data;
}
