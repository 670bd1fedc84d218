import type { PlanInput, UpstreamPlan } from "../upstream-plan.ts";
import { OpenAIEventStreamTap } from "./event-stream-tap.ts";
import { buildOpenAIFormRequest, buildOpenAIRequest } from "./request.ts";
import { extractOpenAIUsageFromBytes } from "./usage.ts";

/**
 * Images, audio and moderations on an OpenAI-compatible upstream: the client's body goes
 * through (JSON, or a multipart upload as its bytes), the answer comes back as it came, and
 * the usage is read where the upstream reports it (gpt-image-1, gpt-4o-transcribe).
 */
export function openAIMediaPlan(input: PlanInput): UpstreamPlan {
	const { op, provider, model, body, raw, form } = input;
	return {
		build: (account) =>
			form
				? buildOpenAIFormRequest(provider, account, op, model, form)
				: buildOpenAIRequest(provider, account, op, model, body, raw),
		streamTransform: () => new OpenAIEventStreamTap(),
		mapBody: (bytes) => ({ body: bytes, usage: extractOpenAIUsageFromBytes(bytes, false) }),
	};
}

/** Speech: JSON in, audio bytes out, relayed as they arrive. */
export function openAISpeechPlan(input: PlanInput): UpstreamPlan {
	return { ...openAIMediaPlan(input), relaysBytes: true };
}
