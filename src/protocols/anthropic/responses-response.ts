import type { TokenUsage } from "../../usage/token-usage.ts";
import { asString, isObject, type JsonObject } from "../json-value.ts";
import { anthropicToOpenAIResponse, usageFromAnthropic } from "./response-to-openai.ts";

/** The `usage` object of a Responses API answer. */
export const responsesUsage = (u: TokenUsage) => ({
	input_tokens: u.prompt_tokens,
	input_tokens_details: { cached_tokens: u.cached_tokens },
	output_tokens: u.completion_tokens,
	output_tokens_details: { reasoning_tokens: u.reasoning_tokens },
	total_tokens: u.total_tokens,
});

export const outputTextPart = (text: string) => ({ type: "output_text", text, annotations: [], logprobs: [] });

export const messageItem = (id: string, text: string, status: "in_progress" | "completed") => ({
	type: "message",
	id,
	status,
	role: "assistant",
	content: status === "completed" ? [outputTextPart(text)] : [],
});

export const functionCallItem = (
	id: string,
	callId: string,
	name: string,
	args: string,
	status: "in_progress" | "completed",
) => ({ type: "function_call", id, call_id: callId, name, arguments: args, status });

export type ResponseStatus = "in_progress" | "completed" | "incomplete";

/** The client's request and the names a translated answer echoes. */
export interface ResponsesEcho {
	/** The model name the client asked for. */
	model: string;
	/** The client's Responses request body. */
	request: JsonObject;
	/** The forced tool whose input is a structured answer. */
	answerTool?: string;
}

/** The response object, as `response.created`, `response.completed` and a whole answer carry it. */
export function responseObject(
	echo: ResponsesEcho,
	id: string,
	createdAt: number,
	status: ResponseStatus,
	output: unknown[],
	usage: TokenUsage | null,
): JsonObject {
	const r = echo.request;
	const text = isObject(r.text) ? r.text : {};
	return {
		id,
		object: "response",
		created_at: createdAt,
		status,
		error: null,
		incomplete_details: status === "incomplete" ? { reason: "max_output_tokens" } : null,
		instructions: r.instructions ?? null,
		max_output_tokens: r.max_output_tokens ?? null,
		model: echo.model,
		output,
		parallel_tool_calls: r.parallel_tool_calls ?? true,
		previous_response_id: null,
		reasoning: { effort: isObject(r.reasoning) ? (r.reasoning.effort ?? null) : null, summary: null },
		store: false,
		temperature: r.temperature ?? 1,
		text: { format: text.format ?? { type: "text" } },
		tool_choice: r.tool_choice ?? "auto",
		tools: Array.isArray(r.tools) ? r.tools : [],
		top_p: r.top_p ?? 1,
		truncation: "disabled",
		usage: usage ? responsesUsage(usage) : null,
		user: r.user ?? null,
		metadata: isObject(r.metadata) ? r.metadata : {},
	};
}

/** Anthropic stop_reason → the Responses status: only running out of tokens leaves it incomplete. */
export const responseStatus = (stopReason: string | undefined): ResponseStatus =>
	stopReason === "max_tokens" || stopReason === "model_context_window_exceeded" ? "incomplete" : "completed";

/**
 * Anthropic Message → Responses API response: the text as one message item, then one
 * function_call item per tool call. Thinking has no place in it (a reasoning item would need
 * OpenAI's encrypted content to be sent back).
 */
export function anthropicToResponses(
	message: JsonObject,
	echo: ResponsesEcho,
	createdAt = Math.floor(Date.now() / 1000),
): JsonObject {
	const chat = anthropicToOpenAIResponse(message, echo.model, createdAt, echo.answerTool);
	const msg = chat.choices[0].message;
	const base = asString(message.id)?.replace(/^msg_/, "") ?? crypto.randomUUID().replaceAll("-", "");
	const output: unknown[] = [];
	if (msg.content !== null) output.push(messageItem(`msg_${base}_0`, msg.content, "completed"));
	for (const call of msg.tool_calls ?? []) {
		output.push(functionCallItem(`fc_${call.id}`, call.id, call.function.name, call.function.arguments, "completed"));
	}
	const status = responseStatus(asString(message.stop_reason));
	return responseObject(echo, `resp_${base}`, createdAt, status, output, usageFromAnthropic(message.usage));
}
