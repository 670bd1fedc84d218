import { GatewayError } from "../../errors/gateway-error.ts";
import { emptyUsage, type TokenUsage, usageFromOpenAI } from "../../usage/token-usage.ts";
import { asString, isObject, type JsonObject } from "../json-value.ts";
import { stopReasonFromOpenAI } from "./stop-reason.ts";

export type AnthropicContentBlock =
	| { type: "text"; text: string }
	| { type: "tool_use"; id: string; name: string; input: JsonObject };

export interface AnthropicUsage {
	input_tokens: number;
	cache_creation_input_tokens: number;
	cache_read_input_tokens: number;
	output_tokens: number;
}

/** The Anthropic Message body this module produces. */
export interface AnthropicMessage {
	id: string;
	type: "message";
	role: "assistant";
	model: string;
	content: AnthropicContentBlock[];
	stop_reason: string | null;
	stop_sequence: null;
	usage: AnthropicUsage;
}

/** TokenUsage → Anthropic usage, whose input_tokens exclude cached ones. */
export const anthropicUsageFrom = (u: TokenUsage): AnthropicUsage => ({
	input_tokens: Math.max(0, u.prompt_tokens - u.cached_tokens - u.cache_write_tokens),
	cache_creation_input_tokens: u.cache_write_tokens,
	cache_read_input_tokens: u.cached_tokens,
	output_tokens: u.completion_tokens,
});

/** `msg_` + the completion id without OpenAI's `chatcmpl-` prefix. */
export const anthropicMessageId = (openAIId: string | undefined): string =>
	`msg_${(openAIId || crypto.randomUUID().replaceAll("-", "")).replace(/^chatcmpl-/, "")}`;

/** Parses model-written tool arguments; "" means no arguments. */
export function parseToolInput(args: string, param: string): JsonObject {
	if (args.trim() === "") return {};
	try {
		const v: unknown = JSON.parse(args);
		if (isObject(v)) return v;
	} catch {
		// fall through
	}
	throw new GatewayError("UPSTREAM_BAD_RESPONSE", "upstream returned tool arguments that are not a JSON object", {
		param,
	});
}

/** OpenAI chat.completion → Anthropic Message; `model` is the model name the client asked for. */
export function openAIToAnthropicResponse(completion: JsonObject, model: string): AnthropicMessage {
	const choice = Array.isArray(completion.choices) && isObject(completion.choices[0]) ? completion.choices[0] : {};
	const message = isObject(choice.message) ? choice.message : {};
	const content: AnthropicContentBlock[] = [];
	const text = asString(message.content) || asString(message.refusal);
	if (text) content.push({ type: "text", text });
	const toolCalls = Array.isArray(message.tool_calls) ? message.tool_calls : [];
	toolCalls.forEach((tc, i) => {
		const fn = isObject(tc) && isObject(tc.function) ? tc.function : {};
		content.push({
			type: "tool_use",
			id: (isObject(tc) && asString(tc.id)) || `toolu_${i}`,
			name: asString(fn.name) ?? "",
			input: parseToolInput(asString(fn.arguments) ?? "", `choices[0].message.tool_calls[${i}].function.arguments`),
		});
	});
	return {
		id: anthropicMessageId(asString(completion.id)),
		type: "message",
		role: "assistant",
		model,
		content,
		stop_reason: stopReasonFromOpenAI(asString(choice.finish_reason)) ?? "end_turn",
		stop_sequence: null,
		usage: anthropicUsageFrom(usageFromOpenAI(completion.usage) ?? emptyUsage()),
	};
}
