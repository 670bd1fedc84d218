/**
 * Providers are data: a preset says which wire protocol a vendor speaks, where it lives and
 * how it wants to be authenticated. Every OpenAI-compatible vendor is a few lines here and
 * shares one protocol folder (src/protocols/openai/); only Anthropic has its own.
 */
export type AuthStyle = "bearer" | "api-key-header" | "x-api-key" | "none";

export interface ProviderPreset {
	/** A key of the protocol registry (src/protocols/registry.ts). */
	protocol: string;
	baseUrl: string;
	auth: AuthStyle;
	/** Azure routes by deployment: /openai/deployments/{model}/… with ?api-version. */
	deploymentPaths?: boolean;
	/** Whether the vendor understands stream_options.include_usage. */
	streamUsage: boolean;
	headers?: Record<string, string>;
}

export const PROVIDER_PRESETS: Record<string, ProviderPreset> = {
	openai: { protocol: "openai", baseUrl: "https://api.openai.com/v1", auth: "bearer", streamUsage: true },
	"azure-openai": {
		protocol: "openai",
		baseUrl: "https://example.openai.azure.com",
		auth: "api-key-header",
		deploymentPaths: true,
		streamUsage: true,
	},
	anthropic: {
		protocol: "anthropic",
		baseUrl: "https://api.anthropic.com/v1",
		auth: "x-api-key",
		streamUsage: true,
		headers: { "anthropic-version": "2023-06-01" },
	},
	gemini: {
		protocol: "openai",
		baseUrl: "https://generativelanguage.googleapis.com/v1beta/openai",
		auth: "bearer",
		streamUsage: true,
	},
	deepseek: { protocol: "openai", baseUrl: "https://api.deepseek.com/v1", auth: "bearer", streamUsage: true },
	zhipu: { protocol: "openai", baseUrl: "https://open.bigmodel.cn/api/paas/v4", auth: "bearer", streamUsage: true },
	dashscope: {
		protocol: "openai",
		baseUrl: "https://dashscope.aliyuncs.com/compatible-mode/v1",
		auth: "bearer",
		streamUsage: true,
	},
	openrouter: { protocol: "openai", baseUrl: "https://openrouter.ai/api/v1", auth: "bearer", streamUsage: true },
	groq: { protocol: "openai", baseUrl: "https://api.groq.com/openai/v1", auth: "bearer", streamUsage: true },
	mistral: { protocol: "openai", baseUrl: "https://api.mistral.ai/v1", auth: "bearer", streamUsage: true },
	together: { protocol: "openai", baseUrl: "https://api.together.xyz/v1", auth: "bearer", streamUsage: true },
	ollama: { protocol: "openai", baseUrl: "http://127.0.0.1:11434/v1", auth: "none", streamUsage: true },
	vllm: { protocol: "openai", baseUrl: "http://127.0.0.1:8000/v1", auth: "bearer", streamUsage: true },
	custom: { protocol: "openai", baseUrl: "", auth: "bearer", streamUsage: true },
};

export const PRESET_NAMES = Object.keys(PROVIDER_PRESETS);
