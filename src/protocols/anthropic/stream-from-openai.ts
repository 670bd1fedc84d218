import { formatSse, type SseEvent } from "../../sse/sse-parser.ts";
import { emptyUsage, type TokenUsage, usageFromOpenAI } from "../../usage/token-usage.ts";
import { asNumber, asString, isObject, type JsonObject } from "../json-value.ts";
import { anthropicErrorTypeFromOpenAI } from "./error.ts";
import { anthropicMessageId, anthropicUsageFrom } from "./response-from-openai.ts";
import { stopReasonFromOpenAI } from "./stop-reason.ts";

export interface OpenAIToAnthropicStreamOptions {
	/** The model name the client asked for. */
	model: string;
}

interface OpenBlock {
	index: number;
	kind: "text" | "thinking" | "tool_use";
	/** OpenAI tool call index, for tool_use blocks. */
	toolIndex?: number;
}

/**
 * Turns OpenAI chat.completion.chunk events into Anthropic Messages SSE bytes in the order the
 * Anthropic SDK's MessageStream accepts: message_start, content blocks one at a time
 * (start, deltas, stop), message_delta with stop_reason and usage, message_stop.
 */
export class OpenAIToAnthropicStream {
	private readonly model: string;
	private started = false;
	private stopped = false;
	private failed = false;
	private open: OpenBlock | null = null;
	private nextIndex = 0;
	private readonly toolIndexes = new Set<number>();
	private stopReason: string | null = null;
	private lastUsage: TokenUsage | null = null;

	constructor(options: OpenAIToAnthropicStreamOptions) {
		this.model = options.model;
	}

	get usage(): TokenUsage {
		return this.lastUsage ?? emptyUsage();
	}

	/** message_stop was sent: the upstream finished normally. */
	get usageFinal(): boolean {
		return this.lastUsage !== null;
	}

	get completed(): boolean {
		return this.stopped;
	}

	push(ev: SseEvent): Uint8Array[] {
		if (this.stopped || this.failed) return [];
		if (ev.data.trim() === "[DONE]") return this.close();
		let data: unknown;
		try {
			data = JSON.parse(ev.data);
		} catch {
			return [];
		}
		if (!isObject(data)) return [];
		if (ev.event === "error" || isObject(data.error)) return this.fail(isObject(data.error) ? data.error : data);

		const out: Uint8Array[] = [];
		if (!this.started) out.push(this.start(asString(data.id)));
		const usage = usageFromOpenAI(data.usage);
		if (usage) this.lastUsage = usage;
		const choice = Array.isArray(data.choices) && isObject(data.choices[0]) ? data.choices[0] : null;
		if (!choice) return out;
		const delta = isObject(choice.delta) ? choice.delta : {};

		// DeepSeek, vLLM and others stream reasoning beside the content
		const reasoning = asString(delta.reasoning_content) || asString(delta.reasoning);
		if (reasoning)
			out.push(
				...this.appendTo("thinking", {
					type: "thinking_delta",
					thinking: reasoning,
				}),
			);
		const text = asString(delta.content);
		if (text) out.push(...this.appendTo("text", { type: "text_delta", text }));
		if (Array.isArray(delta.tool_calls)) {
			delta.tool_calls.forEach((tc, position) => {
				if (isObject(tc)) out.push(...this.onToolCall(tc, position));
			});
		}
		const finish = asString(choice.finish_reason);
		if (finish) this.stopReason = stopReasonFromOpenAI(finish);
		return out;
	}

	/**
	 * Call after the upstream body ended. Closes the message when the upstream finished
	 * (finish_reason or [DONE] seen); otherwise reports the broken stream as an api_error event.
	 */
	finish(): Uint8Array[] {
		if (this.stopped || this.failed) return [];
		if (this.stopReason !== null) return this.close();
		return this.fail({
			type: "api_error",
			message: "upstream stream ended before the response was complete",
		});
	}

	private start(openAIId: string | undefined): Uint8Array {
		this.started = true;
		const usage = anthropicUsageFrom(this.usage);
		return this.event("message_start", {
			type: "message_start",
			message: {
				id: anthropicMessageId(openAIId),
				type: "message",
				role: "assistant",
				model: this.model,
				content: [],
				stop_reason: null,
				stop_sequence: null,
				usage: { ...usage, output_tokens: 0 },
			},
		});
	}

	/** Adds a delta to the open block of `kind`, opening one (and closing another) when needed. */
	private appendTo(kind: "text" | "thinking", delta: JsonObject): Uint8Array[] {
		const out: Uint8Array[] = [];
		if (this.open?.kind !== kind) {
			out.push(...this.closeBlock());
			const block = kind === "text" ? { type: "text", text: "" } : { type: "thinking", thinking: "", signature: "" };
			out.push(this.openBlock({ index: this.nextIndex++, kind }, block));
		}
		out.push(
			this.event("content_block_delta", {
				type: "content_block_delta",
				index: this.open?.index,
				delta,
			}),
		);
		return out;
	}

	private onToolCall(tc: JsonObject, position: number): Uint8Array[] {
		const out: Uint8Array[] = [];
		const toolIndex = asNumber(tc.index) ?? position;
		const fn = isObject(tc.function) ? tc.function : {};
		if (!this.toolIndexes.has(toolIndex)) {
			this.toolIndexes.add(toolIndex);
			out.push(...this.closeBlock());
			const id = asString(tc.id) || `toolu_${crypto.randomUUID().replaceAll("-", "")}`;
			out.push(
				this.openBlock(
					{ index: this.nextIndex++, kind: "tool_use", toolIndex },
					{ type: "tool_use", id, name: asString(fn.name) ?? "", input: {} },
				),
			);
		}
		const piece = asString(fn.arguments);
		// a piece for an earlier, already closed call cannot be placed: Anthropic blocks never reopen
		if (piece && this.open?.toolIndex === toolIndex) {
			out.push(
				this.event("content_block_delta", {
					type: "content_block_delta",
					index: this.open.index,
					delta: { type: "input_json_delta", partial_json: piece },
				}),
			);
		}
		return out;
	}

	private openBlock(block: OpenBlock, contentBlock: JsonObject): Uint8Array {
		this.open = block;
		return this.event("content_block_start", {
			type: "content_block_start",
			index: block.index,
			content_block: contentBlock,
		});
	}

	private closeBlock(): Uint8Array[] {
		if (!this.open) return [];
		const index = this.open.index;
		this.open = null;
		return [this.event("content_block_stop", { type: "content_block_stop", index })];
	}

	private close(): Uint8Array[] {
		const out: Uint8Array[] = [];
		if (!this.started) out.push(this.start(undefined));
		out.push(...this.closeBlock());
		out.push(
			this.event("message_delta", {
				type: "message_delta",
				delta: {
					stop_reason: this.stopReason ?? "end_turn",
					stop_sequence: null,
				},
				usage: anthropicUsageFrom(this.usage),
			}),
		);
		out.push(this.event("message_stop", { type: "message_stop" }));
		this.stopped = true;
		return out;
	}

	private fail(err: JsonObject): Uint8Array[] {
		this.failed = true;
		const type = anthropicErrorTypeFromOpenAI(asString(err.type) ?? asString(err.code));
		const message = asString(err.message) ?? "upstream stream error";
		return [this.event("error", { type: "error", error: { type, message } })];
	}

	private event(name: string, data: JsonObject): Uint8Array {
		return formatSse(JSON.stringify(data), name);
	}
}
