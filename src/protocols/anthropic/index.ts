import type { ProtocolAdapter } from "../upstream-plan.ts";
import { anthropicOverOpenAIPlan, anthropicPassthroughPlan, openAIOverAnthropicPlan } from "./plans.ts";

/** Anthropic Messages upstreams; Anthropic clients reach OpenAI-compatible upstreams through chat completions. */
export const anthropicProtocol: ProtocolAdapter = {
	plans: {
		chat: openAIOverAnthropicPlan,
		messages: anthropicPassthroughPlan,
		count_tokens: anthropicPassthroughPlan,
	},
	overCommon: { messages: anthropicOverOpenAIPlan },
};
