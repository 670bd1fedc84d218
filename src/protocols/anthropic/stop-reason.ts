/** OpenAI finish_reason values the translators produce or read. */
export type OpenAIFinishReason = "stop" | "length" | "tool_calls" | "content_filter" | "function_call";

/** Anthropic stop_reason → OpenAI finish_reason. Unknown reasons read as a normal stop. */
export function finishReasonFromAnthropic(reason: string | null | undefined): OpenAIFinishReason | null {
	switch (reason) {
		case null:
		case undefined:
			return null;
		case "max_tokens":
		case "model_context_window_exceeded":
			return "length";
		case "tool_use":
			return "tool_calls";
		case "refusal":
			return "content_filter";
		default:
			// end_turn, stop_sequence, pause_turn and reasons added later
			return "stop";
	}
}

/** OpenAI finish_reason → Anthropic stop_reason. */
export function stopReasonFromOpenAI(reason: string | null | undefined): string | null {
	switch (reason) {
		case null:
		case undefined:
			return null;
		case "length":
			return "max_tokens";
		case "tool_calls":
		case "function_call":
			return "tool_use";
		case "content_filter":
			return "refusal";
		default:
			return "end_turn";
	}
}
