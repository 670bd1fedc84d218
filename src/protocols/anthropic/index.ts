import type { ProtocolAdapter } from "../upstream-plan.ts";
import {
	anthropicOverOpenAIPlan,
	anthropicPassthroughPlan,
	openAIOverAnthropicPlan,
	responsesOverAnthropicPlan,
} from "./plans.ts";

/** Anthropic Messages upstreams (OpenAI chat and Responses clients translated); Anthropic clients reach OpenAI-compatible upstreams through chat completions. */
export const anthropicProtocol: ProtocolAdapter = {
	plans: {
		chat: openAIOverAnthropicPlan,
		responses: responsesOverAnthropicPlan,
		messages: anthropicPassthroughPlan,
		count_tokens: anthropicPassthroughPlan,
	},
	overCommon: { messages: anthropicOverOpenAIPlan },
};
