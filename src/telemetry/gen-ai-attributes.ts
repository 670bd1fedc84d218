/**
 * OpenTelemetry GenAI semantic-convention names and values. The conventions are still
 * "development" status, so their constants live in the package's unstable entry point; the few
 * used here are written out once instead.
 */
export const GEN_AI = {
	operation: "gen_ai.operation.name",
	/** The newer name of gen_ai.system; both are set, as backends read one or the other. */
	providerName: "gen_ai.provider.name",
	system: "gen_ai.system",
	requestModel: "gen_ai.request.model",
	maxTokens: "gen_ai.request.max_tokens",
	temperature: "gen_ai.request.temperature",
	topP: "gen_ai.request.top_p",
	inputTokens: "gen_ai.usage.input_tokens",
	outputTokens: "gen_ai.usage.output_tokens",
} as const;

/** Provider type (src/config/presets.ts) → the conventions' well-known `gen_ai.provider.name`. */
const PROVIDER_NAMES: Record<string, string> = {
	openai: "openai",
	"azure-openai": "azure.ai.openai",
	anthropic: "anthropic",
	gemini: "gcp.gemini",
	deepseek: "deepseek",
	groq: "groq",
	mistral: "mistral_ai",
};

/** The conventions' name for a provider type; types they do not list keep their own name. */
export function genAiProviderName(type: string): string {
	return PROVIDER_NAMES[type] ?? type;
}

/** Gateway operation → `gen_ai.operation.name` (the conventions' names where they have one). */
const OPERATION_NAMES: Record<string, string> = {
	chat: "chat",
	messages: "chat",
	responses: "chat",
	completions: "text_completion",
	embeddings: "embeddings",
};

export function genAiOperationName(op: string): string {
	return OPERATION_NAMES[op] ?? op;
}
