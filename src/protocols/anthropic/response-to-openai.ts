import { type TokenUsage, tokenCount } from "../../usage/token-usage.ts";
import { asString, isObject, type JsonObject } from "../json-value.ts";
import { type OpenAIUsage, toOpenAIUsage } from "../openai/usage-object.ts";
import { finishReasonFromAnthropic, type OpenAIFinishReason } from "./stop-reason.ts";

export interface OpenAIToolCall {
	id: string;
	type: "function";
	function: { name: string; arguments: string };
}

/** The chat.completion body this module produces. */
export interface OpenAIChatCompletion {
	id: string;
	object: "chat.completion";
	created: number;
	model: string;
	choices: {
		index: 0;
		message: {
			role: "assistant";
			content: string | null;
			refusal: null;
			tool_calls?: OpenAIToolCall[];
			/** Thinking text, the field DeepSeek and other OpenAI-compatible APIs use. */
			reasoning_content?: string;
		};
		logprobs: null;
		finish_reason: OpenAIFinishReason | null;
	}[];
	usage: OpenAIUsage;
}

/**
 * Anthropic usage → TokenUsage. Anthropic's input_tokens exclude cache reads and writes;
 * OpenAI's prompt_tokens include both.
 */
export function usageFromAnthropic(u: unknown): TokenUsage {
	const o = isObject(u) ? u : {};
	const input = tokenCount(o.input_tokens);
	const cacheRead = tokenCount(o.cache_read_input_tokens);
	const cacheWrite = tokenCount(o.cache_creation_input_tokens);
	const output = tokenCount(o.output_tokens);
	const details = isObject(o.output_tokens_details) ? o.output_tokens_details : {};
	const prompt = input + cacheRead + cacheWrite;
	return {
		prompt_tokens: prompt,
		completion_tokens: output,
		cached_tokens: cacheRead,
		cache_write_tokens: cacheWrite,
		reasoning_tokens: tokenCount(details.thinking_tokens),
		total_tokens: prompt + output,
	};
}

/**
 * The finish_reason for the client. A forced answer tool ends the turn with tool_use, yet when
 * only the answer tool was called (`answeredOnly`) the client sees a complete answer: "stop".
 */
export function finishReason(stopReason: string | undefined, answeredOnly: boolean): OpenAIFinishReason {
	const reason = finishReasonFromAnthropic(stopReason) ?? "stop";
	return reason === "tool_calls" && answeredOnly ? "stop" : reason;
}

/**
 * Anthropic Message → OpenAI chat.completion. `model` is the model name the client asked for;
 * `created` defaults to now (seconds). A tool_use of `answerTool` is a structured answer.
 */
export function anthropicToOpenAIResponse(
	message: JsonObject,
	model: string,
	created = Math.floor(Date.now() / 1000),
	answerTool?: string,
): OpenAIChatCompletion {
	const text: string[] = [];
	const reasoning: string[] = [];
	const toolCalls: OpenAIToolCall[] = [];
	let answered = false;
	for (const block of Array.isArray(message.content) ? message.content : []) {
		if (!isObject(block)) continue;
		if (block.type === "text") text.push(asString(block.text) ?? "");
		else if (block.type === "thinking") reasoning.push(asString(block.thinking) ?? "");
		else if (block.type === "tool_use" && answerTool !== undefined && block.name === answerTool) {
			// a structured answer: OpenAI returns it as the message text
			answered = true;
			text.push(JSON.stringify(block.input ?? {}));
		} else if (block.type === "tool_use") {
			toolCalls.push({
				id: asString(block.id) ?? "",
				type: "function",
				function: {
					name: asString(block.name) ?? "",
					arguments: JSON.stringify(block.input ?? {}),
				},
			});
		}
		// redacted_thinking and server-side tool blocks have no OpenAI counterpart
	}
	const msg: OpenAIChatCompletion["choices"][0]["message"] = {
		role: "assistant",
		content: text.length > 0 ? text.join("") : null,
		refusal: null,
	};
	if (toolCalls.length > 0) msg.tool_calls = toolCalls;
	if (reasoning.length > 0) msg.reasoning_content = reasoning.join("");
	return {
		id: `chatcmpl-${asString(message.id) ?? ""}`,
		object: "chat.completion",
		created,
		model,
		choices: [
			{
				index: 0,
				message: msg,
				logprobs: null,
				finish_reason: finishReason(asString(message.stop_reason), answered && toolCalls.length === 0),
			},
		],
		usage: toOpenAIUsage(usageFromAnthropic(message.usage)),
	};
}
