/** Token counts normalised across providers (OpenAI names; Anthropic mapped in). */
export interface TokenUsage {
	/** All input tokens, cached ones included (OpenAI semantics). */
	prompt_tokens: number;
	completion_tokens: number;
	/** Input tokens read from cache (subset of prompt_tokens). */
	cached_tokens: number;
	/** Input tokens written to cache (Anthropic cache_creation_input_tokens; subset of prompt_tokens). */
	cache_write_tokens: number;
	/** Reasoning tokens (subset of completion_tokens). */
	reasoning_tokens: number;
	total_tokens: number;
}

export const emptyUsage = (): TokenUsage => ({
	prompt_tokens: 0,
	completion_tokens: 0,
	cached_tokens: 0,
	cache_write_tokens: 0,
	reasoning_tokens: 0,
	total_tokens: 0,
});

/** The largest count a usage row takes: Postgres' int4 range, far above any real request. */
export const MAX_TOKEN_COUNT = 2 ** 31 - 1;

/**
 * The one rule for a token count, whatever protocol reported it: a whole number, rounded,
 * between 0 and MAX_TOKEN_COUNT; anything that is not a finite number is 0. An upstream that
 * reports 1.5, -3, NaN or 1e30 tokens must not make the usage row unstorable.
 */
export function tokenCount(v: unknown): number {
	if (typeof v !== "number" || !(v > 0)) return 0;
	return v >= MAX_TOKEN_COUNT ? MAX_TOKEN_COUNT : Math.round(v);
}

/** Every count of `u` through tokenCount; the total is recomputed when it is missing. */
export function normalizeUsage(u: TokenUsage): TokenUsage {
	const prompt = tokenCount(u.prompt_tokens);
	const completion = tokenCount(u.completion_tokens);
	return {
		prompt_tokens: prompt,
		completion_tokens: completion,
		cached_tokens: tokenCount(u.cached_tokens),
		cache_write_tokens: tokenCount(u.cache_write_tokens),
		reasoning_tokens: tokenCount(u.reasoning_tokens),
		total_tokens: tokenCount(u.total_tokens) || Math.min(prompt + completion, MAX_TOKEN_COUNT),
	};
}

/** The usage fields OpenAI-compatible servers send (chat/completions/embeddings and Responses names). */
interface OpenAIUsageShape {
	prompt_tokens?: unknown;
	input_tokens?: unknown;
	completion_tokens?: unknown;
	output_tokens?: unknown;
	total_tokens?: unknown;
	prompt_tokens_details?: { cached_tokens?: unknown } | null;
	input_tokens_details?: { cached_tokens?: unknown } | null;
	completion_tokens_details?: { reasoning_tokens?: unknown } | null;
	output_tokens_details?: { reasoning_tokens?: unknown } | null;
}

/** Reads an OpenAI `usage` object (chat, completions, embeddings or responses shape). */
export function usageFromOpenAI(u: unknown): TokenUsage | null {
	if (!u || typeof u !== "object") return null;
	const o = u as OpenAIUsageShape;
	// responses API uses input_tokens/output_tokens
	const prompt = tokenCount(o.prompt_tokens ?? o.input_tokens);
	const completion = tokenCount(o.completion_tokens ?? o.output_tokens);
	const cached = tokenCount(o.prompt_tokens_details?.cached_tokens ?? o.input_tokens_details?.cached_tokens);
	const reasoning = tokenCount(
		o.completion_tokens_details?.reasoning_tokens ?? o.output_tokens_details?.reasoning_tokens,
	);
	const total = tokenCount(o.total_tokens) || prompt + completion;
	return {
		prompt_tokens: prompt,
		completion_tokens: completion,
		cached_tokens: cached,
		cache_write_tokens: 0,
		reasoning_tokens: reasoning,
		total_tokens: total,
	};
}
