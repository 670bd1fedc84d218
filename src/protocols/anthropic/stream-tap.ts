import { eventData, SseFramer } from "../../sse/sse-framer.ts";
import type { StreamTransform } from "../../streaming/stream-transform.ts";
import { emptyUsage, type TokenUsage } from "../../usage/token-usage.ts";
import { usageFromAnthropic } from "./response-to-openai.ts";

const enc = new TextEncoder();

/** The bytes of an Anthropic in-band error event. */
export function anthropicErrorEvent(message: string, type = "api_error"): Uint8Array {
	return enc.encode(`event: error\ndata: ${JSON.stringify({ type: "error", error: { type, message } })}\n\n`);
}

/**
 * Anthropic Messages stream passed through byte for byte; usage is read on the side from
 * message_start (input and cache tokens) and message_delta (cumulative output tokens).
 */
export class AnthropicStreamTap implements StreamTransform {
	private readonly framer = new SseFramer();
	private input: TokenUsage = emptyUsage();
	private output = 0;
	private sawUsage = false;
	/** message_delta's usage (the closing output count) was read. */
	usageFinal = false;
	completed = false;
	upstreamError: { message: string; type?: string } | null = null;
	atBoundary = true;

	get usage(): TokenUsage | null {
		if (!this.sawUsage) return null;
		const u = { ...this.input, completion_tokens: this.output };
		u.total_tokens = u.prompt_tokens + u.completion_tokens;
		return u;
	}

	push(chunk: Uint8Array): Uint8Array {
		for (const event of this.framer.push(chunk)) this.inspect(event);
		this.atBoundary = !this.framer.pending;
		return chunk;
	}

	finish(): Uint8Array[] {
		const rest = this.framer.rest();
		if (rest.trim()) this.inspect(rest);
		return [];
	}

	errorEvent(message: string): Uint8Array {
		return anthropicErrorEvent(message);
	}

	private inspect(event: string): void {
		const data = eventData(event);
		if (data === null || data.includes('"type":"ping"') || data.includes('"type":"content_block_delta"')) return;
		let obj: {
			type?: string;
			message?: { usage?: unknown };
			usage?: { output_tokens?: unknown } & Record<string, unknown>;
			error?: { message?: unknown; type?: string };
		};
		try {
			obj = JSON.parse(data);
		} catch {
			return;
		}
		switch (obj.type) {
			case "message_start":
				if (obj.message?.usage) {
					this.input = usageFromAnthropic(obj.message.usage);
					this.sawUsage = true;
				}
				break;
			case "message_delta":
				if (obj.usage) {
					const u = usageFromAnthropic({ ...obj.usage });
					if (typeof obj.usage.output_tokens === "number") this.output = u.completion_tokens;
					// newer API versions repeat input usage here; keep the larger view
					if (u.prompt_tokens > this.input.prompt_tokens) this.input = { ...u, completion_tokens: 0 };
					this.sawUsage = true;
					this.usageFinal = true;
				}
				break;
			case "message_stop":
				this.completed = true;
				break;
			case "error":
				this.upstreamError = { message: String(obj.error?.message ?? "upstream error"), type: obj.error?.type };
				break;
		}
	}
}
