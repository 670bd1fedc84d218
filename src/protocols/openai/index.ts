import type { ProtocolAdapter } from "../upstream-plan.ts";
import { openAIPassthroughPlan } from "./passthrough-plan.ts";

/** OpenAI-compatible upstreams: every OpenAI operation goes through as the client sent it. */
export const openAIProtocol: ProtocolAdapter = {
	plans: {
		chat: openAIPassthroughPlan,
		completions: openAIPassthroughPlan,
		embeddings: openAIPassthroughPlan,
		responses: openAIPassthroughPlan,
	},
	speaksCommon: true,
};
