import { anthropicProtocol } from "./anthropic/index.ts";
import { openAIProtocol } from "./openai/index.ts";
import type { ProtocolAdapter } from "./upstream-plan.ts";

/** Every wire protocol the gateway speaks, by the name presets use (`protocol = "…"`). */
export const PROTOCOLS: Readonly<Record<string, ProtocolAdapter>> = {
	openai: openAIProtocol,
	anthropic: anthropicProtocol,
};
