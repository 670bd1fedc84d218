import { type TokenUsage, usageFromOpenAI } from "../usage/token-usage.ts";
import { eventData, SseFramer } from "./sse-framer.ts";
import type { StreamTransform } from "./stream-transform.ts";

const enc = new TextEncoder();
const RESPONSES_ERROR_RE = /"type"\s*:\s*"error"/;

/** True when the event carries a `"usage": {…}` object (not the `"usage":null` of ordinary chunks). */
function hasUsageObject(data: string): boolean {
	const at = data.lastIndexOf('"usage"');
	if (at === -1) return false;
	for (let i = at + 7; i < data.length; i++) {
		const c = data.charCodeAt(i);
		if (c === 123) return true; // {
		if (c !== 58 && c !== 32 && c !== 9 && c !== 10 && c !== 13) return false; // not ":" or space
	}
	return false;
}
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

export interface OpenAITapOptions {
	/**
	 * The gateway added `stream_options.include_usage`: drop the usage-only chunk so the
	 * client sees what it asked for. Otherwise bytes pass through untouched.
	 */
	stripUsageChunk: boolean;
}

/**
 * Reads an OpenAI-style stream on the side: the usage chunk, the `[DONE]` sentinel (or the
 * Responses API's terminal event), and in-band errors. When nothing must be removed, `push`
 * hands back the very chunk it received, so the client gets the upstream's bytes.
 */
export class OpenAIStreamTap implements StreamTransform {
	private readonly framer = new SseFramer();
	usage: TokenUsage | null = null;
	completed = false;
	upstreamError: { message: string; type?: string } | null = null;
	atBoundary = true;

	constructor(private readonly opts: OpenAITapOptions) {}

	push(chunk: Uint8Array): Uint8Array | Uint8Array[] | null {
		const hadCarry = this.framer.pending;
		const events = this.framer.push(chunk);
		let drop = -1;
		for (let i = 0; i < events.length; i++) {
			if (this.inspect(events[i])) drop = i;
		}
		this.atBoundary = !this.framer.pending;
		if (!this.opts.stripUsageChunk) return chunk;
		// strip mode emits whole events only; a chunk that is exactly whole events and holds
		// nothing to drop still goes out as the same bytes
		if (drop === -1 && !hadCarry && !this.framer.pending) return chunk;
		const kept = drop === -1 ? events : events.filter((_, i) => i !== drop);
		return kept.length ? enc.encode(kept.join("")) : null;
	}

	finish(): Uint8Array[] {
		const rest = this.framer.rest();
		if (!rest.trim()) return [];
		const usageOnly = this.inspect(rest);
		return this.opts.stripUsageChunk && !usageOnly ? [enc.encode(rest)] : [];
	}

	errorEvent(message: string, code: string): Uint8Array {
		return enc.encode(
			`event: error\ndata: ${JSON.stringify({ error: { message, type: "api_error", code, param: null } })}\n\n`,
		);
	}

	/** Looks at one whole event; returns true when it is a usage-only chunk. */
	private inspect(event: string): boolean {
		return inspectOpenAIEvent(event, this);
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
