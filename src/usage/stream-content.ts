import { eventData, SseFramer } from "../sse/sse-framer.ts";

/**
 * Upstream bytes held before they are read as text. Below this the relay only keeps
 * references to the chunks it already has (no decoding, no copy); a longer stream is read
 * into text once per this many bytes, so memory stays near the content's size, not the
 * SSE framing's (an OpenAI chunk spends ~150 bytes of JSON on each token).
 */
const HOLD_BYTES = 64 * 1024;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null;
const str = (v: unknown): string => (typeof v === "string" ? v : "");

/**
 * The generated text an SSE event carries, in any of the stream shapes the gateway relays:
 * OpenAI chat (content, reasoning, refusal, tool calls) and completions, the Responses API's
 * `*.delta` events, and Anthropic's content_block_start/content_block_delta.
 */
export function generatedText(data: string): string {
	if (data === "[DONE]" || data.length < 8) return "";
	let obj: unknown;
	try {
		obj = JSON.parse(data);
	} catch {
		return "";
	}
	if (!isObj(obj)) return "";
	let out = "";
	if (Array.isArray(obj.choices)) {
		for (const c of obj.choices) {
			if (!isObj(c)) continue;
			out += str(c.text);
			const d = c.delta;
			if (!isObj(d)) continue;
			out += str(d.content) + str(d.reasoning_content) + str(d.reasoning) + str(d.refusal);
			if (Array.isArray(d.tool_calls)) {
				for (const t of d.tool_calls) {
					if (isObj(t) && isObj(t.function)) out += str(t.function.name) + str(t.function.arguments);
				}
			}
		}
		return out;
	}
	const type = str(obj.type);
	if (type === "content_block_delta" && isObj(obj.delta)) {
		const d = obj.delta;
		return str(d.text) + str(d.thinking) + str(d.partial_json);
	}
	if (type === "content_block_start" && isObj(obj.content_block)) {
		const b = obj.content_block;
		return str(b.name) + str(b.text);
	}
	if (type.startsWith("response.") && type.endsWith(".delta")) return str(obj.delta);
	return "";
}

/**
 * What a stream has generated so far, kept cheaply for the case where its usage never
 * arrives (the client left, the stream broke): the relay hands every upstream chunk to
 * `push`, which only keeps a reference; `text()` reads the events when someone needs them.
 */
export class StreamContent {
	private chunks: Uint8Array[] = [];
	private held = 0;
	private framer: SseFramer | null = null;
	private read = "";
	/** Every chunk, for body logging (reassembled off this thread); null when the request's bodies are not logged. */
	private kept: Uint8Array[] | null = null;
	private keptBytes = 0;
	private keptTruncated = false;

	/** `keepBytes` > 0: also keep references to the first that many bytes of the stream, for its body log. */
	constructor(private readonly keepBytes = 0) {
		if (keepBytes > 0) this.kept = [];
	}

	push(chunk: Uint8Array): void {
		if (this.kept) {
			if (this.keptBytes < this.keepBytes) {
				this.kept.push(chunk);
				this.keptBytes += chunk.byteLength;
			} else this.keptTruncated = true;
		}
		this.chunks.push(chunk);
		this.held += chunk.byteLength;
		if (this.held > HOLD_BYTES) this.readHeld();
	}

	/** The stream's chunks kept for its body log (null when none were kept), and whether the cap cut them. */
	keptChunks(): { chunks: Uint8Array[]; truncated: boolean } | null {
		return this.kept ? { chunks: this.kept, truncated: this.keptTruncated } : null;
	}

	/** The generated text of every event pushed so far (a trailing partial event included). */
	text(): string {
		this.readHeld();
		const rest = (this.framer as SseFramer).rest();
		const data = rest.trim() ? eventData(rest) : null;
		return data === null ? this.read : this.read + generatedText(data);
	}

	private readHeld(): void {
		this.framer ??= new SseFramer();
		for (const c of this.chunks) {
			for (const ev of this.framer.push(c)) {
				const data = eventData(ev);
				if (data !== null) this.read += generatedText(data);
			}
		}
		this.chunks = [];
		this.held = 0;
	}
}
