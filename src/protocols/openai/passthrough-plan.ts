import type { PlanInput, UpstreamPlan } from "../upstream-plan.ts";
import { buildOpenAIRequest, needsUsageInjection } from "./request.ts";
import { OpenAIStreamTap } from "./stream-tap.ts";
import { OpenAIStripTap } from "./strip-tap.ts";
import { OpenAITailTap } from "./tail-tap.ts";
import { extractOpenAIUsageFromBytes } from "./usage.ts";

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
