import { buildOpenAIRequest, needsUsageInjection } from "../providers/openai-compatible.ts";
import { OpenAIStreamTap } from "../streaming/openai-stream-tap.ts";
import { extractOpenAIUsage } from "../usage/extract-usage.ts";
import type { PlanInput, UpstreamPlan } from "./upstream-plan.ts";

/** OpenAI-shaped client → OpenAI-compatible upstream: bytes go through, usage is read on the side. */
export function openAIPassthroughPlan(input: PlanInput): UpstreamPlan {
	const { op, provider, model, body, raw } = input;
	const strip = needsUsageInjection(op, provider, body);
	return {
		build: (account) => buildOpenAIRequest(provider, account, op, model, body, raw),
		streamTransform: () => new OpenAIStreamTap({ stripUsageChunk: strip }),
		mapBody: (text) => ({ body: text, usage: extractOpenAIUsage(text) }),
	};
}
