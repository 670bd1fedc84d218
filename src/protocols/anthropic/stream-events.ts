import type { SseEvent } from "../../sse/sse-parser.ts";
import type { TokenUsage } from "../../usage/token-usage.ts";
import { asString, isObject, type JsonObject } from "../json-value.ts";
import { AnthropicStreamUsage } from "./stream-usage.ts";

export interface StreamError {
	type: string;
	message: string;
}

/**
 * What every translator of an Anthropic Messages event stream shares: reading the events,
 * counting their usage, and knowing when the stream stopped or failed. A subclass says what
 * each event becomes in its client's shape (OpenAI chat chunks, Responses API events).
 */
export abstract class AnthropicEventTranslator {
	protected stopped = false;
	protected failure: StreamError | null = null;
	protected readonly counter = new AnthropicStreamUsage();

	/** The upstream's closing usage arrived (not only message_start's provisional count). */
	get usageFinal(): boolean {
		return this.counter.final;
	}

	get usage(): TokenUsage {
		return this.counter.usage;
	}

	/** message_stop was seen: the upstream finished normally. */
	get completed(): boolean {
		return this.stopped;
	}

	get error(): StreamError | null {
		return this.failure;
	}

	push(ev: SseEvent): Uint8Array[] {
		if (this.failure || this.stopped) return [];
		let data: unknown;
		try {
			data = JSON.parse(ev.data);
		} catch {
			return []; // pings and keep-alives without JSON
		}
		if (!isObject(data)) return [];
		switch (ev.event ?? asString(data.type)) {
			case "message_start": {
				const message = isObject(data.message) ? data.message : {};
				this.counter.read(message.usage, true);
				return this.onStart(message);
			}
			case "content_block_start":
				return this.onBlockStart(data);
			case "content_block_delta":
				return this.onBlockDelta(data);
			case "content_block_stop":
				return this.onBlockStop(data);
			case "message_delta":
				this.counter.read(data.usage, false);
				return this.onMessageDelta(isObject(data.delta) ? data.delta : {});
			case "message_stop":
				this.stopped = true;
				return this.onStop();
			case "error": {
				const err = isObject(data.error) ? data.error : {};
				this.failure = {
					type: asString(err.type) ?? "api_error",
					message: asString(err.message) ?? "upstream stream error",
				};
				return this.onError(this.failure);
			}
			default:
				return []; // ping and event types added later
		}
	}

	/** message_start, given its `message` (its usage is counted already). */
	protected abstract onStart(message: JsonObject): Uint8Array[];
	protected abstract onBlockStart(data: JsonObject): Uint8Array[];
	protected abstract onBlockDelta(data: JsonObject): Uint8Array[];
	protected abstract onBlockStop(data: JsonObject): Uint8Array[];
	/** message_delta, given its `delta` (its usage is counted already). */
	protected abstract onMessageDelta(delta: JsonObject): Uint8Array[];
	/** message_stop (`completed` is already true). */
	protected abstract onStop(): Uint8Array[];
	/** An in-band error event from the upstream (`error` is already set). */
	protected abstract onError(failure: StreamError): Uint8Array[];
}
