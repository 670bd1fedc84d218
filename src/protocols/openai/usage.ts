import { type TokenUsage, usageFromOpenAI } from "../../usage/token-usage.ts";

/**
 * Finds the top-level-ish `"usage": {…}` object in a JSON text without parsing the whole
 * document (embedding answers can be megabytes of floats). Takes the last occurrence, which
 * is where OpenAI-compatible servers put it; falls back to a full parse if the slice fails.
 */
export function extractUsageText(text: string): string | null {
	const at = text.lastIndexOf('"usage"');
	if (at === -1) return null;
	const open = text.indexOf("{", at + 7);
	if (open === -1) return null;
	// only whitespace and ":" may stand between the key and the object
	if (!/^\s*:\s*$/.test(text.slice(at + 7, open))) return null;
	let depth = 0;
	let inString = false;
	for (let i = open; i < text.length; i++) {
		const c = text.charCodeAt(i);
		if (inString) {
			if (c === 92)
				i++; // backslash: skip the escaped char
			else if (c === 34) inString = false;
			continue;
		}
		if (c === 34) inString = true;
		else if (c === 123) depth++;
		else if (c === 125 && --depth === 0) return text.slice(open, i + 1);
	}
	return null;
}

export function extractOpenAIUsage(text: string): TokenUsage | null {
	const slice = extractUsageText(text);
	if (slice) {
		try {
			return usageFromOpenAI(JSON.parse(slice));
		} catch {
			// fall through to the full parse
		}
	}
	try {
		const o = JSON.parse(text);
		return usageFromOpenAI(o?.usage ?? o?.response?.usage);
	} catch {
		return null;
	}
}

const TAIL_BYTES = 4096;
const utf8 = new TextDecoder();

/**
 * The usage of a whole OpenAI-style answer given as bytes: OpenAI-compatible servers put
 * `usage` at the end, so only the tail is decoded; the whole body only when that fails and
 * `wholeBody` allows it (not for images: megabytes of base64 that mostly carry no usage).
 */
export function extractOpenAIUsageFromBytes(bytes: Uint8Array, wholeBody = true): TokenUsage | null {
	if (bytes.byteLength > TAIL_BYTES) {
		const slice = extractUsageText(utf8.decode(bytes.subarray(bytes.byteLength - TAIL_BYTES)));
		if (slice) {
			try {
				return usageFromOpenAI(JSON.parse(slice));
			} catch {
				// fall through to the whole body
			}
		}
		if (!wholeBody) return null;
	}
	return extractOpenAIUsage(utf8.decode(bytes));
}
