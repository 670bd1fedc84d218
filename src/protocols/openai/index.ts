import type { ProtocolAdapter } from "../upstream-plan.ts";
import { openAIMediaPlan, openAISpeechPlan } from "./media-plan.ts";
import { openAIPassthroughPlan } from "./passthrough-plan.ts";

/** OpenAI-compatible upstreams: every OpenAI operation goes through as the client sent it. */
export const openAIProtocol: ProtocolAdapter = {
	plans: {
		chat: openAIPassthroughPlan,
		completions: openAIPassthroughPlan,
		embeddings: openAIPassthroughPlan,
		responses: openAIPassthroughPlan,
		images_generations: openAIMediaPlan,
		images_edits: openAIMediaPlan,
		images_variations: openAIMediaPlan,
		audio_speech: openAISpeechPlan,
		audio_transcriptions: openAIMediaPlan,
		audio_translations: openAIMediaPlan,
		moderations: openAIMediaPlan,
	},
	speaksCommon: true,
};
