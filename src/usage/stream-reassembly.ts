import { eventData, SseFramer } from "../sse/sse-framer.ts";
import { generatedText } from "./stream-content.ts";

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null;
const str = (v: unknown): string => (typeof v === "string" ? v : "");

export interface ReassembledToolCall {
	id: string;
	name: string;
	arguments: string;
}

/** A stream's answer as a reader wants it: the generated text and the tool calls, whole. */
export interface ReassembledStream {
	text: string;
	tool_calls: ReassembledToolCall[];
}

/**
 * Puts a relayed stream back together from its SSE chunks, in the shapes the gateway relays:
 * OpenAI chat (content deltas, tool calls by index) and completions, Anthropic messages
 * (text, thinking and tool_use blocks with their partial JSON), and the Responses API
 * (`*.delta` text, function calls and their argument deltas). Runs on the body writer's
 * thread, never on a request's.
 */
export function reassembleStream(chunks: readonly Uint8Array[]): ReassembledStream {
	const framer = new SseFramer();
	let text = "";
	const calls: ReassembledToolCall[] = [];
	/** OpenAI tool calls by choice and index; Anthropic blocks by index; Responses items by output index. */
	const byKey = new Map<string, ReassembledToolCall>();
	const callAt = (key: string, id = "", name = ""): ReassembledToolCall => {
		let c = byKey.get(key);
		if (!c) {
			c = { id, name, arguments: "" };
			byKey.set(key, c);
			calls.push(c);
		}
		if (id) c.id = id;
		if (name) c.name = name;
		return c;
	};
	const onEvent = (data: string) => {
		let obj: unknown;
		try {
			obj = JSON.parse(data);
		} catch {
			return;
		}
		if (!isObj(obj)) return;
		if (Array.isArray(obj.choices)) {
			for (const [ci, c] of obj.choices.entries()) {
				if (!isObj(c)) continue;
				text += str(c.text);
				const d = c.delta;
				if (!isObj(d)) continue;
				text += str(d.content) + str(d.reasoning_content) + str(d.reasoning) + str(d.refusal);
				if (!Array.isArray(d.tool_calls)) continue;
				for (const t of d.tool_calls) {
					if (!isObj(t)) continue;
					const fn = isObj(t.function) ? t.function : {};
					const call = callAt(
						`c${isObj(c) && typeof c.index === "number" ? c.index : ci}:${t.index ?? 0}`,
						str(t.id),
						str(fn.name),
					);
					call.arguments += str(fn.arguments);
				}
			}
			return;
		}
		const type = str(obj.type);
		if (type === "content_block_start" && isObj(obj.content_block)) {
			const b = obj.content_block;
			if (b.type === "tool_use") callAt(`b${obj.index}`, str(b.id), str(b.name));
			else text += str(b.text);
			return;
		}
		if (type === "content_block_delta" && isObj(obj.delta)) {
			const d = obj.delta;
			if (d.type === "input_json_delta") callAt(`b${obj.index}`).arguments += str(d.partial_json);
			else text += str(d.text) + str(d.thinking);
			return;
		}
		if (type === "response.output_item.added" && isObj(obj.item) && obj.item.type === "function_call") {
			callAt(`o${obj.output_index}`, str(obj.item.call_id), str(obj.item.name));
			return;
		}
		if (type === "response.function_call_arguments.delta") {
			callAt(`o${obj.output_index}`).arguments += str(obj.delta);
			return;
		}
		text += generatedText(data);
	};
	for (const chunk of chunks) {
		for (const ev of framer.push(chunk)) {
			const data = eventData(ev);
			if (data !== null && data !== "[DONE]") onEvent(data);
		}
	}
	const rest = framer.rest();
	const data = rest.trim() ? eventData(rest) : null;
	if (data !== null && data !== "[DONE]") onEvent(data);
	return { text, tool_calls: calls };
}
