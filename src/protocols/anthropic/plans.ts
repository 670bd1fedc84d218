import { GatewayError } from "../../errors/gateway-error.ts";
import { upstreamHeaders } from "../../providers/upstream-headers.ts";
import { TranslatingTransform } from "../../streaming/translating-transform.ts";
import { openAIUrl } from "../openai/request.ts";
import { openAIErrorEvent } from "../openai/stream-tap.ts";
import { extractOpenAIUsage } from "../openai/usage.ts";
import type { PlanInput, UpstreamPlan } from "../upstream-plan.ts";
import { anthropicErrorTypeFromOpenAI } from "./error.ts";
import { type AnthropicRequest, openAIToAnthropicRequest } from "./request-from-openai.ts";
import { anthropicToOpenAIRequest } from "./request-to-openai.ts";
import { openAIToAnthropicResponse } from "./response-from-openai.ts";
import { anthropicToOpenAIResponse, usageFromAnthropic } from "./response-to-openai.ts";
import { responsesToChatRequest } from "./responses-request.ts";
import { anthropicToResponses, type ResponsesEcho } from "./responses-response.ts";
import { AnthropicToResponsesStream } from "./responses-stream.ts";
import { OpenAIToAnthropicStream } from "./stream-from-openai.ts";
import { AnthropicStreamTap, anthropicErrorEvent } from "./stream-tap.ts";
import { AnthropicToOpenAIStream } from "./stream-to-openai.ts";
import { ANSWER_TOOL } from "./structured-output.ts";

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
	const request = openAIToAnthropicRequest(body, model);
	const answerTool = structuredAnswerTool(request);
	const payload = JSON.stringify(request);
	const includeUsage = (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
	return {
		build: (account) => ({
			url: `${account.baseUrl}/messages`,
			headers: upstreamHeaders(provider, account),
			body: payload,
		}),
		streamTransform: () => {
			const t = new AnthropicToOpenAIStream({ model: requestedModel, includeUsage, answerTool });
			return new TranslatingTransform(t, () => t.error, openAIErrorEvent, false);
		},
		mapBody: (bytes) => {
			const text = utf8.decode(bytes);
			const msg = parseUpstreamJson(text);
			return {
				body: JSON.stringify(anthropicToOpenAIResponse(msg, requestedModel, undefined, answerTool)),
				usage: usageFromAnthropic(msg.usage),
			};
		},
	};
}

/** The answer tool's name when the request asks for structured output. */
function structuredAnswerTool(request: AnthropicRequest): string | undefined {
	return request.tools?.some((t) => t.name === ANSWER_TOOL) ? ANSWER_TOOL : undefined;
}

/** Responses API client → Anthropic upstream: the request through chat, answers and events translated. */
export function responsesOverAnthropicPlan(input: PlanInput): UpstreamPlan {
	const { provider, model, body, requestedModel } = input;
	const request = openAIToAnthropicRequest(responsesToChatRequest(body), model);
	const echo: ResponsesEcho = { model: requestedModel, request: body, answerTool: structuredAnswerTool(request) };
	const payload = JSON.stringify(request);
	return {
		build: (account) => ({
			url: `${account.baseUrl}/messages`,
			headers: upstreamHeaders(provider, account),
			body: payload,
		}),
		streamTransform: () => {
			const t = new AnthropicToResponsesStream(echo);
			return new TranslatingTransform(
				t,
				() => t.error,
				(m, code) => t.errorEvent(m, code),
				false,
			);
		},
		mapBody: (bytes) => {
			const msg = parseUpstreamJson(utf8.decode(bytes));
			return { body: JSON.stringify(anthropicToResponses(msg, echo)), usage: usageFromAnthropic(msg.usage) };
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
