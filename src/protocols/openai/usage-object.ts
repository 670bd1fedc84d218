import type { TokenUsage } from "../../usage/token-usage.ts";

/** The `usage` object of an OpenAI chat completion or final stream chunk. */
export interface OpenAIUsage {
	prompt_tokens: number;
	completion_tokens: number;
	total_tokens: number;
	prompt_tokens_details: { cached_tokens: number };
	completion_tokens_details: { reasoning_tokens: number };
}

export const toOpenAIUsage = (u: TokenUsage): OpenAIUsage => ({
	prompt_tokens: u.prompt_tokens,
	completion_tokens: u.completion_tokens,
	total_tokens: u.total_tokens,
	prompt_tokens_details: { cached_tokens: u.cached_tokens },
	completion_tokens_details: { reasoning_tokens: u.reasoning_tokens },
});
