import { GatewayError } from "../errors/gateway-error.ts";
import { openAIUrl } from "../providers/openai-compatible.ts";
import { upstreamHeaders } from "../providers/upstream-request.ts";
import { AnthropicStreamTap, anthropicErrorEvent } from "../streaming/anthropic-stream-tap.ts";
import { openAIErrorEvent } from "../streaming/openai-stream-tap.ts";
import { TranslatingTransform } from "../streaming/translating-transform.ts";
import { anthropicErrorTypeFromOpenAI } from "../translate/anthropic-error.ts";
import { AnthropicToOpenAIStream } from "../translate/anthropic-stream-to-openai.ts";
import { anthropicToOpenAIRequest } from "../translate/anthropic-to-openai-request.ts";
import { anthropicToOpenAIResponse, usageFromAnthropic } from "../translate/anthropic-to-openai-response.ts";
import { OpenAIToAnthropicStream } from "../translate/openai-stream-to-anthropic.ts";
import { openAIToAnthropicRequest } from "../translate/openai-to-anthropic-request.ts";
import { openAIToAnthropicResponse } from "../translate/openai-to-anthropic-response.ts";
import { extractOpenAIUsage } from "../usage/extract-usage.ts";
import type { PlanInput, UpstreamPlan } from "./upstream-plan.ts";

const utf8 = new TextDecoder();

function parseUpstreamJson(text: string): Record<string, unknown> {
	try {
		const v = JSON.parse(text);
		if (v && typeof v === "object") return v;
	} catch {
		// fall through
	}
	throw new GatewayError("UPSTREAM_BAD_RESPONSE", "The upstream answered with a body that is not JSON");
}

/** Client headers an Anthropic upstream should see (version pinning, beta features). */
function anthropicClientHeaders(input: PlanInput): Record<string, string> {
	const h: Record<string, string> = {};
	const version = input.clientHeaders?.get("anthropic-version");
	const beta = input.clientHeaders?.get("anthropic-beta");
	if (version) h["anthropic-version"] = version;
	if (beta) h["anthropic-beta"] = beta;
	return h;
}

/** OpenAI chat client → Anthropic upstream: translate the request, the answer and the stream. */
export function openAIOverAnthropicPlan(input: PlanInput): UpstreamPlan {
	const { provider, model, body, requestedModel } = input;
	const payload = JSON.stringify(openAIToAnthropicRequest(body, model));
	const includeUsage = (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
	return {
		build: (account) => ({
			url: `${account.baseUrl}/messages`,
			headers: upstreamHeaders(provider, account),
			body: payload,
		}),
		streamTransform: () => {
			const t = new AnthropicToOpenAIStream({ model: requestedModel, includeUsage });
			return new TranslatingTransform(t, () => t.error, openAIErrorEvent, false);
		},
		mapBody: (bytes) => {
			const text = utf8.decode(bytes);
			const msg = parseUpstreamJson(text);
			return {
				body: JSON.stringify(anthropicToOpenAIResponse(msg, requestedModel)),
				usage: usageFromAnthropic(msg.usage),
			};
		},
	};
}

/** Anthropic client → Anthropic upstream: bytes through, usage read on the side. */
export function anthropicPassthroughPlan(input: PlanInput): UpstreamPlan {
	const { provider, model, body, raw, op } = input;
	const payload = body.model === model ? raw : JSON.stringify({ ...body, model });
	const path = op === "count_tokens" ? "/messages/count_tokens" : "/messages";
	const extra = anthropicClientHeaders(input);
	return {
		build: (account) => ({
			url: `${account.baseUrl}${path}`,
			headers: { ...upstreamHeaders(provider, account), ...extra },
			body: payload,
		}),
		streamTransform: () => new AnthropicStreamTap(),
		mapBody: (bytes) => {
			const text = utf8.decode(bytes);
			if (op === "count_tokens") return { body: text, usage: null };
			const msg = parseUpstreamJson(text);
			return { body: text, usage: msg.usage ? usageFromAnthropic(msg.usage) : null };
		},
	};
}

/** Anthropic client → OpenAI-compatible upstream: Messages ⇄ chat completions. */
export function anthropicOverOpenAIPlan(input: PlanInput): UpstreamPlan {
	const { provider, model, body, requestedModel } = input;
	const payload = JSON.stringify(anthropicToOpenAIRequest(body, model));
	return {
		build: (account) => ({
			url: openAIUrl(provider, account, "chat", model),
			headers: upstreamHeaders(provider, account),
			body: payload,
		}),
		streamTransform: () => {
			const t = new OpenAIToAnthropicStream({ model: requestedModel });
			return new TranslatingTransform(
				t,
				() => null,
				(m) => anthropicErrorEvent(m, anthropicErrorTypeFromOpenAI("api_error")),
				true,
			);
		},
		mapBody: (bytes) => {
			const text = utf8.decode(bytes);
			const completion = parseUpstreamJson(text);
			return {
				body: JSON.stringify(openAIToAnthropicResponse(completion, requestedModel)),
				usage: extractOpenAIUsage(text),
			};
		},
	};
}
