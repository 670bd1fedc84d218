import { countTokens, type Encoding } from "./token-counter.ts";
import { emptyUsage, normalizeUsage, type TokenUsage } from "./token-usage.ts";

/** Models tokenised with o200k_base (gpt-4o and later): the bare id, provider prefix removed. */
const O200K = /^(gpt-4o|chatgpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|gpt-oss|o\d|codex)/;
/** Older OpenAI models: cl100k_base. */
const CL100K = /^(gpt-4|gpt-3\.5|text-embedding-3|text-embedding-ada-002)/;
/**
 * Models with a tokenizer we do not ship (Claude, Gemini, Llama, Mistral, DeepSeek…) are
 * counted with o200k_base and scaled by this factor: on English text and code their
 * tokenizers produce between about as many and a fifth more tokens than o200k_base, so the
 * estimate leans to the high side by a little rather than billing too little.
 */
export const OTHER_MODEL_FACTOR = 1.1;
/** Per message: the role and the separators the chat format adds (OpenAI's published rule of thumb). */
const PER_MESSAGE = 4;
/** The reply's priming tokens. */
const PER_REPLY = 3;

export function encodingFor(model: string): { encoding: Encoding; factor: number } {
	const bare = model.slice(model.lastIndexOf("/") + 1).toLowerCase();
	if (O200K.test(bare)) return { encoding: "o200k_base", factor: 1 };
	if (CL100K.test(bare)) return { encoding: "cl100k_base", factor: 1 };
	return { encoding: "o200k_base", factor: OTHER_MODEL_FACTOR };
}

const SKIPPED_KEYS = new Set(["image_url", "input_audio", "source", "data", "role", "type"]);

/** Every string under `v` (message text, tool calls, tool schemas), for the prompt count. */
function collectText(v: unknown, out: string[]): void {
	if (typeof v === "string") out.push(v);
	else if (Array.isArray(v)) for (const x of v) collectText(x, out);
	else if (v && typeof v === "object") {
		for (const [k, x] of Object.entries(v)) {
			// images and audio are billed by their own rules (their base64 is not text tokens);
			// a message's role and a part's type are in PER_MESSAGE
			if (SKIPPED_KEYS.has(k)) continue;
			collectText(x, out);
		}
	}
}

/**
 * The prompt of a request body as text, in any of the shapes the gateway takes (chat
 * messages, Anthropic messages + system, Responses input + instructions, completions
 * prompt, embeddings input, tools), with the number of messages it holds.
 */
export function promptOf(body: Record<string, unknown>): { text: string; messages: number } {
	const parts: string[] = [];
	for (const field of ["system", "instructions", "messages", "input", "prompt", "tools", "functions"]) {
		collectText(body[field], parts);
	}
	const messages = Array.isArray(body.messages)
		? body.messages.length
		: Array.isArray(body.input)
			? body.input.length
			: 1;
	return { text: parts.join("\n"), messages };
}

/**
 * Usage for a request whose upstream never reported it whole (the client left, the stream
 * broke or was cut): prompt tokens from the request body, completion tokens from the text
 * relayed so far. What the upstream did report wins where it is larger (Anthropic reports
 * the prompt at the start of a stream, exactly).
 */
export async function estimateUsage(
	model: string,
	body: Record<string, unknown>,
	completionText: string,
	reported: TokenUsage | null,
): Promise<TokenUsage> {
	const { encoding, factor } = encodingFor(model);
	const prompt = promptOf(body);
	const [promptCount, completionCount] = await countTokens(encoding, [prompt.text, completionText]);
	const known = reported ?? emptyUsage();
	const estimatedPrompt = Math.ceil(promptCount * factor) + prompt.messages * PER_MESSAGE + PER_REPLY;
	const estimatedCompletion = Math.ceil(completionCount * factor);
	const prompt_tokens = known.prompt_tokens > 0 ? known.prompt_tokens : estimatedPrompt;
	const completion_tokens = Math.max(known.completion_tokens, estimatedCompletion);
	return normalizeUsage({
		...known,
		prompt_tokens,
		completion_tokens,
		total_tokens: prompt_tokens + completion_tokens,
	});
}
