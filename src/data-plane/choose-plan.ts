import { GatewayError } from "../errors/gateway-error.ts";
import { anthropicOverOpenAIPlan, anthropicPassthroughPlan, openAIOverAnthropicPlan } from "./anthropic-plans.ts";
import { openAIPassthroughPlan } from "./openai-passthrough-plan.ts";
import type { PlanFactory, PlanInput, UpstreamPlan } from "./upstream-plan.ts";

/** op → plan, per upstream protocol; a missing entry means the pairing is not supported. */
const PLANS: Record<"openai" | "anthropic", Partial<Record<PlanInput["op"], PlanFactory>>> = {
	openai: {
		chat: openAIPassthroughPlan,
		completions: openAIPassthroughPlan,
		embeddings: openAIPassthroughPlan,
		responses: openAIPassthroughPlan,
		messages: anthropicOverOpenAIPlan,
	},
	anthropic: {
		chat: openAIOverAnthropicPlan,
		messages: anthropicPassthroughPlan,
		count_tokens: anthropicPassthroughPlan,
	},
};

/** Which way a request travels, by what the client speaks and what the upstream speaks. */
export function choosePlan(input: PlanInput): UpstreamPlan {
	const factory = PLANS[input.provider.preset.protocol][input.op];
	if (factory) return factory(input);
	throw new GatewayError(
		"PLATFORM_INVALID_REQUEST",
		`The model '${input.requestedModel}' is served by provider '${input.provider.name}', which does not support this endpoint`,
		{ param: "model" },
	);
}
