import { formatSse } from "../../sse/sse-parser.ts";
import { asNumber, asString, isObject, type JsonObject } from "../json-value.ts";
import { toOpenAIUsage } from "../openai/usage-object.ts";
import { finishReason } from "./response-to-openai.ts";
import type { OpenAIFinishReason } from "./stop-reason.ts";
import { AnthropicEventTranslator, type StreamError } from "./stream-events.ts";

export type { StreamError } from "./stream-events.ts";

export interface AnthropicToOpenAIStreamOptions {
	/** The model name the client asked for; echoed in every chunk. */
	model: string;
	/** The client sent stream_options.include_usage. */
	includeUsage: boolean;
	/** Seconds; defaults to now. */
	created?: number;
	/** The forced tool whose input is a structured answer, sent as message content. */
	answerTool?: string;
}

const DONE = new TextEncoder().encode("data: [DONE]\n\n");

interface ToolBlock {
	/** The tool call's index for the client; -1 for the answer tool, sent as content. */
	index: number;
	/** Input given whole in content_block_start, sent at block stop if no deltas came. */
	startInput: JsonObject | null;
	sentArguments: boolean;
}

/**
 * Turns an Anthropic Messages event stream into OpenAI chat.completion.chunk SSE bytes.
 * Feed it parsed events in order; call finish() once the upstream body has ended.
 */
export class AnthropicToOpenAIStream extends AnthropicEventTranslator {
	private readonly model: string;
	private readonly includeUsage: boolean;
	private readonly created: number;
	private readonly answerTool: string | undefined;
	private id = `chatcmpl-${crypto.randomUUID().replaceAll("-", "")}`;
	private started = false;
	private readonly tools = new Map<number, ToolBlock>();
	private toolCount = 0;
	private answered = false;

	constructor(options: AnthropicToOpenAIStreamOptions) {
		super();
		this.model = options.model;
		this.includeUsage = options.includeUsage;
		this.created = options.created ?? Math.floor(Date.now() / 1000);
		this.answerTool = options.answerTool;
	}

	/** Call after the upstream body ended. Emits nothing unless message_stop was seen. */
	finish(): Uint8Array[] {
		if (!this.stopped || this.failure) return [];
		const out: Uint8Array[] = [];
		if (this.includeUsage) {
			out.push(
				this.encode({
					...this.base(),
					choices: [],
					usage: toOpenAIUsage(this.usage),
				}),
			);
		}
		out.push(DONE);
		return out;
	}

	protected onStart(message: JsonObject): Uint8Array[] {
		const id = asString(message.id);
		if (id && !this.started) this.id = `chatcmpl-${id}`;
		return this.ensureStarted();
	}

	protected onBlockStart(data: JsonObject): Uint8Array[] {
		const block = isObject(data.content_block) ? data.content_block : {};
		const out = this.ensureStarted();
		if (block.type === "text" && asString(block.text)) {
			out.push(this.delta({ content: block.text }));
		} else if (block.type === "thinking" && asString(block.thinking)) {
			out.push(this.delta({ reasoning_content: block.thinking }));
		} else if (block.type === "tool_use") {
			const input = isObject(block.input) && Object.keys(block.input).length > 0 ? block.input : null;
			const isAnswer = this.answerTool !== undefined && block.name === this.answerTool;
			const index = isAnswer ? -1 : this.toolCount++;
			this.tools.set(asNumber(data.index) ?? -1, {
				index,
				startInput: input,
				sentArguments: false,
			});
			if (isAnswer) {
				this.answered = true;
				return out;
			}
			out.push(
				this.delta({
					tool_calls: [
						{
							index,
							id: asString(block.id) ?? "",
							type: "function",
							function: { name: asString(block.name) ?? "", arguments: "" },
						},
					],
				}),
			);
		}
		return out;
	}

	protected onBlockDelta(data: JsonObject): Uint8Array[] {
		const delta = isObject(data.delta) ? data.delta : {};
		const out = this.ensureStarted();
		switch (delta.type) {
			case "text_delta":
				if (asString(delta.text)) out.push(this.delta({ content: delta.text }));
				break;
			case "thinking_delta":
				if (asString(delta.thinking)) out.push(this.delta({ reasoning_content: delta.thinking }));
				break;
			case "input_json_delta": {
				const tool = this.tools.get(asNumber(data.index) ?? -1);
				const piece = asString(delta.partial_json);
				if (tool && piece) {
					tool.sentArguments = true;
					if (tool.index === -1) {
						out.push(this.delta({ content: piece }));
						break;
					}
					out.push(
						this.delta({
							tool_calls: [{ index: tool.index, function: { arguments: piece } }],
						}),
					);
				}
				break;
			}
			// signature_delta and citations_delta have no OpenAI counterpart
		}
		return out;
	}

	protected onBlockStop(data: JsonObject): Uint8Array[] {
		const tool = this.tools.get(asNumber(data.index) ?? -1);
		if (!tool || tool.sentArguments || !tool.startInput) return [];
		tool.sentArguments = true;
		const args = JSON.stringify(tool.startInput);
		if (tool.index === -1) return [this.delta({ content: args })];
		return [
			this.delta({
				tool_calls: [{ index: tool.index, function: { arguments: args } }],
			}),
		];
	}

	protected onMessageDelta(delta: JsonObject): Uint8Array[] {
		const reason = finishReason(asString(delta.stop_reason), this.answered && this.toolCount === 0);
		const out = this.ensureStarted();
		out.push(this.chunk({}, reason));
		return out;
	}

	protected onStop(): Uint8Array[] {
		return [];
	}

	protected onError({ message, type }: StreamError): Uint8Array[] {
		return [this.encode({ error: { message, type, code: type } })];
	}

	private ensureStarted(): Uint8Array[] {
		if (this.started) return [];
		this.started = true;
		return [this.delta({ role: "assistant", content: "" })];
	}

	private base(): JsonObject {
		return {
			id: this.id,
			object: "chat.completion.chunk",
			created: this.created,
			model: this.model,
		};
	}

	private delta(delta: JsonObject): Uint8Array {
		return this.chunk(delta, null);
	}

	private chunk(delta: JsonObject, finishReason: OpenAIFinishReason | null): Uint8Array {
		const chunk: JsonObject = {
			...this.base(),
			choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
		};
		if (this.includeUsage) chunk.usage = null;
		return this.encode(chunk);
	}

	private encode(obj: JsonObject): Uint8Array {
		return formatSse(JSON.stringify(obj));
	}
}
