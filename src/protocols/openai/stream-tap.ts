import { eventData, SseFramer } from "../../sse/sse-framer.ts";
import type { StreamTransform } from "../../streaming/stream-transform.ts";
import { type TokenUsage, usageFromOpenAI } from "../../usage/token-usage.ts";

const enc = new TextEncoder();
const RESPONSES_ERROR_RE = /"type"\s*:\s*"error"/;

/**
 * Index of the last `"usage"` key in `text` whose value is an object (the `"usage":null` of
 * ordinary chunks does not count), or -1. A cheap filter: the JSON decides.
 */
export function lastUsageObject(text: string): number {
	let at = text.length;
	while (at > 0) {
		at = text.lastIndexOf('"usage"', at - 1);
		if (at === -1) return -1;
		for (let i = at + 7; i < text.length; i++) {
			const c = text.charCodeAt(i);
			if (c === 123) return at; // {
			if (c !== 58 && c !== 32 && c !== 9 && c !== 10 && c !== 13) break; // not ":" or space
		}
	}
	return -1;
}

/** True when the event carries a `"usage": {…}` object. */
const hasUsageObject = (data: string): boolean => lastUsageObject(data) !== -1;
const RESPONSES_END = new Set(["response.completed", "response.incomplete", "response.failed"]);

/** The few fields of a stream event the tap looks at. */
interface StreamEventShape {
	type?: unknown;
	code?: unknown;
	message?: unknown;
	usage?: unknown;
	choices?: unknown;
	error?: { message?: unknown; type?: string } | null;
	response?: { usage?: unknown; error?: { message?: unknown } | null } | null;
}

/** The bytes of an OpenAI in-band error event (the SDKs raise APIError on it). */
export function openAIErrorEvent(message: string, code: string): Uint8Array {
	return enc.encode(
		`event: error\ndata: ${JSON.stringify({ error: { message, type: "api_error", code, param: null } })}\n\n`,
	);
}

/**
 * Reads an OpenAI-style stream on the side, event by event: the usage (in a chunk, or in the
 * Responses API's terminal event), the `[DONE]` sentinel or the Responses API's terminal
 * event, and in-band errors. `push` hands back the very chunk it received. Used for the
 * Responses API, whose terminal event can be larger than the tail OpenAITailTap keeps.
 */
export class OpenAIStreamTap implements StreamTransform {
	private readonly framer = new SseFramer();
	usage: TokenUsage | null = null;
	completed = false;
	upstreamError: { message: string; type?: string } | null = null;
	atBoundary = true;

	push(chunk: Uint8Array): Uint8Array {
		for (const event of this.framer.push(chunk)) inspectOpenAIEvent(event, this);
		this.atBoundary = !this.framer.pending;
		return chunk;
	}

	finish(): Uint8Array[] {
		const rest = this.framer.rest();
		if (rest.trim()) inspectOpenAIEvent(rest, this);
		return [];
	}

	errorEvent(message: string, code: string): Uint8Array {
		return openAIErrorEvent(message, code);
	}
}

/** What a tap learns from the events it reads. */
export interface OpenAIStreamFacts {
	usage: TokenUsage | null;
	completed: boolean;
	upstreamError: { message: string; type?: string } | null;
}

/** Reads one whole event into `facts`; returns true when it is a usage-only chunk. */
export function inspectOpenAIEvent(event: string, facts: OpenAIStreamFacts): boolean {
	const data = eventData(event);
	if (data === null) return false;
	if (data === "[DONE]") {
		facts.completed = true;
		return false;
	}
	const hasUsage = hasUsageObject(data);
	const hasError = data.includes('"error"');
	const isResponses = data.includes('"type":"response.') || (hasError && RESPONSES_ERROR_RE.test(data));
	if (!hasUsage && !hasError && !isResponses) return false;
	let obj: StreamEventShape;
	try {
		obj = JSON.parse(data);
	} catch {
		return false;
	}
	if (obj.error && typeof obj.error === "object") {
		facts.upstreamError = { message: String(obj.error.message ?? "upstream error"), type: obj.error.type };
		return false;
	}
	// the Responses API's in-band error: {"type":"error","code","message"} at the top level
	if (obj.type === "error") {
		facts.upstreamError = {
			message: String(obj.message ?? "upstream error"),
			type: typeof obj.code === "string" ? obj.code : undefined,
		};
		return false;
	}
	if (typeof obj.type === "string" && obj.type.startsWith("response.")) {
		if (obj.response?.usage) facts.usage = usageFromOpenAI(obj.response.usage);
		if (RESPONSES_END.has(obj.type)) facts.completed = true;
		if (obj.type === "response.failed") {
			facts.upstreamError = { message: String(obj.response?.error?.message ?? "response failed") };
		}
		return false;
	}
	if (obj.usage) {
		facts.usage = usageFromOpenAI(obj.usage);
		return Array.isArray(obj.choices) && obj.choices.length === 0;
	}
	return false;
}
