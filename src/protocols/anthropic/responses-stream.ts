import { formatSse } from "../../sse/sse-parser.ts";
import { asNumber, asString, isObject, type JsonObject } from "../json-value.ts";
import {
	functionCallItem,
	messageItem,
	outputTextPart,
	type ResponsesEcho,
	responseObject,
	responseStatus,
} from "./responses-response.ts";
import { AnthropicEventTranslator, type StreamError } from "./stream-events.ts";

/** One Anthropic content block, as the output item it became. */
interface OutputBlock {
	kind: "text" | "call";
	outputIndex: number;
	itemId: string;
	callId: string;
	name: string;
	/** Text, or the call's arguments, as sent so far. */
	sent: string;
	/** Tool input given whole in content_block_start, sent at block stop if no deltas came. */
	startInput: JsonObject | null;
}

/**
 * Turns an Anthropic Messages event stream into the Responses API's event stream:
 * response.created, response.in_progress, per text block output_item.added, content_part.added,
 * output_text.delta…, output_text.done, content_part.done, output_item.done; per tool call
 * output_item.added, function_call_arguments.delta…/.done, output_item.done; then
 * response.completed (or response.incomplete when the token limit cut it) with usage.
 */
export class AnthropicToResponsesStream extends AnthropicEventTranslator {
	private readonly echo: ResponsesEcho;
	private readonly createdAt: number;
	private id = `resp_${crypto.randomUUID().replaceAll("-", "")}`;
	private seq = 0;
	private started = false;
	private stopReason: string | undefined;
	private readonly blocks = new Map<number, OutputBlock>();
	private readonly done: unknown[] = [];

	constructor(echo: ResponsesEcho, createdAt = Math.floor(Date.now() / 1000)) {
		super();
		this.echo = echo;
		this.createdAt = createdAt;
	}

	/** The terminal event goes out on message_stop; nothing is left for the end of the body. */
	finish(): Uint8Array[] {
		return [];
	}

	/** An in-band error, as the Responses API streams one. */
	errorEvent(message: string, code: string): Uint8Array {
		return this.event("error", { code, message, param: null });
	}

	protected onStart(message: JsonObject): Uint8Array[] {
		const id = asString(message.id);
		if (id && !this.started) this.id = `resp_${id.replace(/^msg_/, "")}`;
		return this.ensureStarted();
	}

	protected onMessageDelta(delta: JsonObject): Uint8Array[] {
		this.stopReason = asString(delta.stop_reason) ?? this.stopReason;
		return [];
	}

	protected onError({ message, type }: StreamError): Uint8Array[] {
		return [this.errorEvent(message, type)];
	}

	protected onBlockStart(data: JsonObject): Uint8Array[] {
		const block = isObject(data.content_block) ? data.content_block : {};
		const out = this.ensureStarted();
		const index = asNumber(data.index) ?? -1;
		const outputIndex = this.done.length + this.blocks.size;
		const isAnswer =
			block.type === "tool_use" && this.echo.answerTool !== undefined && block.name === this.echo.answerTool;
		const input = isObject(block.input) && Object.keys(block.input).length > 0 ? block.input : null;
		if (block.type === "text" || isAnswer) {
			const b: OutputBlock = {
				kind: "text",
				outputIndex,
				itemId: `msg_${this.id.slice(5)}_${outputIndex}`,
				callId: "",
				name: "",
				sent: "",
				startInput: isAnswer ? input : null,
			};
			this.blocks.set(index, b);
			out.push(
				this.event("response.output_item.added", {
					output_index: outputIndex,
					item: messageItem(b.itemId, "", "in_progress"),
				}),
				this.event("response.content_part.added", { ...this.at(b), part: outputTextPart("") }),
			);
			const text = asString(block.text);
			if (text) out.push(this.textDelta(b, text));
		} else if (block.type === "tool_use") {
			const callId = asString(block.id) ?? "";
			const b: OutputBlock = {
				kind: "call",
				outputIndex,
				itemId: `fc_${callId}`,
				callId,
				name: asString(block.name) ?? "",
				sent: "",
				startInput: input,
			};
			this.blocks.set(index, b);
			out.push(
				this.event("response.output_item.added", {
					output_index: outputIndex,
					item: functionCallItem(b.itemId, callId, b.name, "", "in_progress"),
				}),
			);
		}
		// thinking and server-side tool blocks have no Responses counterpart without OpenAI's encryption
		return out;
	}

	protected onBlockDelta(data: JsonObject): Uint8Array[] {
		const b = this.blocks.get(asNumber(data.index) ?? -1);
		const delta = isObject(data.delta) ? data.delta : {};
		if (!b) return [];
		const piece = asString(delta.type === "text_delta" ? delta.text : delta.partial_json);
		if (!piece || (delta.type !== "text_delta" && delta.type !== "input_json_delta")) return [];
		if (b.kind === "text") return [this.textDelta(b, piece)];
		b.sent += piece;
		return [
			this.event("response.function_call_arguments.delta", {
				item_id: b.itemId,
				output_index: b.outputIndex,
				delta: piece,
			}),
		];
	}

	protected onBlockStop(data: JsonObject): Uint8Array[] {
		const index = asNumber(data.index) ?? -1;
		const b = this.blocks.get(index);
		if (!b) return [];
		this.blocks.delete(index);
		const out: Uint8Array[] = [];
		if (b.kind === "text") {
			if (b.sent === "" && b.startInput) out.push(this.textDelta(b, JSON.stringify(b.startInput)));
			const item = messageItem(b.itemId, b.sent, "completed");
			this.done.push(item);
			out.push(
				this.event("response.output_text.done", { ...this.at(b), text: b.sent, logprobs: [] }),
				this.event("response.content_part.done", { ...this.at(b), part: outputTextPart(b.sent) }),
				this.event("response.output_item.done", { output_index: b.outputIndex, item }),
			);
			return out;
		}
		if (b.sent === "") {
			b.sent = JSON.stringify(b.startInput ?? {});
			out.push(
				this.event("response.function_call_arguments.delta", {
					item_id: b.itemId,
					output_index: b.outputIndex,
					delta: b.sent,
				}),
			);
		}
		const item = functionCallItem(b.itemId, b.callId, b.name, b.sent, "completed");
		this.done.push(item);
		out.push(
			this.event("response.function_call_arguments.done", {
				item_id: b.itemId,
				output_index: b.outputIndex,
				arguments: b.sent,
			}),
			this.event("response.output_item.done", { output_index: b.outputIndex, item }),
		);
		return out;
	}

	protected onStop(): Uint8Array[] {
		const out = this.ensureStarted();
		const status = responseStatus(this.stopReason);
		const response = responseObject(this.echo, this.id, this.createdAt, status, this.done, this.usage);
		out.push(this.event(status === "incomplete" ? "response.incomplete" : "response.completed", { response }));
		return out;
	}

	private ensureStarted(): Uint8Array[] {
		if (this.started) return [];
		this.started = true;
		const response = responseObject(this.echo, this.id, this.createdAt, "in_progress", [], null);
		return [this.event("response.created", { response }), this.event("response.in_progress", { response })];
	}

	private at(b: OutputBlock) {
		return { item_id: b.itemId, output_index: b.outputIndex, content_index: 0 };
	}

	private textDelta(b: OutputBlock, piece: string): Uint8Array {
		b.sent += piece;
		return this.event("response.output_text.delta", { ...this.at(b), delta: piece, logprobs: [] });
	}

	private event(type: string, payload: JsonObject): Uint8Array {
		return formatSse(JSON.stringify({ type, ...payload, sequence_number: this.seq++ }), type);
	}
}
