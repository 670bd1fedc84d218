/** Deterministic "tokenizer" and answer generator shared by every mock endpoint. */

/** Words in a text: whitespace-separated, empty pieces ignored. */
export function countWords(text: string): number {
	let n = 0;
	let inWord = false;
	for (let i = 0; i < text.length; i++) {
		const c = text.charCodeAt(i);
		const space = c === 32 || c === 10 || c === 9 || c === 13;
		if (!space && !inWord) n++;
		inWord = !space;
	}
	return n;
}

/** Prompt tokens for any request: words in all of its text plus a fixed overhead of 3. */
export function promptTokensFor(texts: readonly string[]): number {
	let n = 3;
	for (const t of texts) n += countWords(t);
	return n;
}

export const DEFAULT_ANSWER_WORDS = 12;
const FILLER = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"];

export interface Answer {
	/** The words of the answer; streams send one word per content event. */
	words: string[];
	text: string;
	/** True when `maxTokens` cut the echo short (finish_reason "length" / "max_tokens"). */
	truncated: boolean;
}

/**
 * "echo: <last user text>", padded with filler words to `maxTokens` (default 12) words;
 * with an explicit `maxTokens` the answer has exactly that many words.
 */
export function buildAnswer(lastUserText: string, maxTokens: number | undefined, prefix = "echo:"): Answer {
	const words = [prefix, ...lastUserText.split(/\s+/).filter((w) => w !== "")];
	const target = maxTokens ?? Math.max(DEFAULT_ANSWER_WORDS, words.length);
	let truncated = false;
	if (words.length > target) {
		words.length = Math.max(target, 0);
		truncated = true;
	}
	for (let i = 0; words.length < target; i++) words.push(FILLER[i % FILLER.length]);
	return { words, text: words.join(" "), truncated };
}

/** Splits a string into `n` roughly equal pieces (streamed tool arguments). */
export function splitPieces(s: string, n: number): string[] {
	const size = Math.max(1, Math.ceil(s.length / n));
	const out: string[] = [];
	for (let i = 0; i < s.length; i += size) out.push(s.slice(i, i + size));
	return out.length > 0 ? out : [""];
}

/** Text of an OpenAI/Anthropic content value: a string or an array of parts/blocks. */
export function contentText(content: unknown): string {
	if (typeof content === "string") return content;
	if (!Array.isArray(content)) return "";
	const parts: string[] = [];
	for (const part of content) {
		if (typeof part !== "object" || part === null) continue;
		const p = part as { type?: string; text?: unknown; content?: unknown };
		if (typeof p.text === "string") parts.push(p.text);
		else if (p.type === "tool_result") parts.push(contentText(p.content));
	}
	return parts.join(" ");
}

/** A small deterministic unit vector for `text` (FNV-1a seeded xorshift). */
export function embeddingFor(text: string, dims: number): number[] {
	let h = 0x811c9dc5;
	for (let i = 0; i < text.length; i++) {
		h ^= text.charCodeAt(i);
		h = Math.imul(h, 0x01000193) >>> 0;
	}
	let x = h || 1;
	const v: number[] = [];
	let norm = 0;
	for (let i = 0; i < dims; i++) {
		x ^= x << 13;
		x ^= x >>> 17;
		x ^= x << 5;
		x >>>= 0;
		const f = x / 0xffffffff - 0.5;
		v.push(f);
		norm += f * f;
	}
	const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
	// Rounded through float32 so the float and base64 encodings carry the same numbers.
	return v.map((f) => Math.fround(f * scale));
}
