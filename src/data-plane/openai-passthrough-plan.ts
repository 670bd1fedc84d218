import { buildOpenAIRequest, needsUsageInjection } from "../providers/openai-compatible.ts";
import { OpenAIStreamTap } from "../streaming/openai-stream-tap.ts";
import { OpenAIStripTap } from "../streaming/openai-strip-tap.ts";
import { OpenAITailTap } from "../streaming/openai-tail-tap.ts";
import { extractOpenAIUsageFromBytes } from "../usage/extract-usage.ts";
import type { PlanInput, UpstreamPlan } from "./upstream-plan.ts";

/** OpenAI-shaped client → OpenAI-compatible upstream: bytes go through, usage is read on the side. */
export function openAIPassthroughPlan(input: PlanInput): UpstreamPlan {
	const { op, provider, model, body, raw } = input;
	const strip = needsUsageInjection(op, provider, body);
	return {
		build: (account) => buildOpenAIRequest(provider, account, op, model, body, raw),
		// chat/completions streams the client asked usage for need nothing but their tail;
		// Responses API streams carry usage in a terminal event that can be large: framed tap
		// (the gateway injects include_usage only for chat and completions, so `strip` implies them)
		streamTransform: () =>
			strip
				? new OpenAIStripTap()
				: op === "chat" || op === "completions"
					? new OpenAITailTap()
					: new OpenAIStreamTap(),
		// the bytes go back as they came; only the tail is decoded to find the usage
		mapBody: (bytes) => ({ body: bytes, usage: extractOpenAIUsageFromBytes(bytes) }),
	};
}
