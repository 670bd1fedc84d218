import type { AccountRef } from "../../providers/account-ref.ts";
import type { ProviderRuntime } from "../../providers/provider-registry.ts";
import { upstreamHeaders } from "../../providers/upstream-headers.ts";
import type { UpstreamRequest } from "../../routing/types.ts";
import { type FormBody, withFormField } from "../form-data.ts";
import type { Operation } from "../operations.ts";

const PATHS: Partial<Record<Operation, string>> = {
	chat: "/chat/completions",
	completions: "/completions",
	embeddings: "/embeddings",
	responses: "/responses",
	images_generations: "/images/generations",
	images_edits: "/images/edits",
	images_variations: "/images/variations",
	audio_speech: "/audio/speech",
	audio_transcriptions: "/audio/transcriptions",
	audio_translations: "/audio/translations",
	moderations: "/moderations",
};

export function openAIPath(op: Operation): string {
	const path = PATHS[op];
	if (!path) throw new Error(`operation ${op} has no OpenAI endpoint`);
	return path;
}

export function openAIUrl(provider: ProviderRuntime, account: AccountRef, op: Operation, model: string): string {
	const path = openAIPath(op);
	if (provider.preset.deploymentPaths) {
		const version = provider.apiVersion ?? "2024-10-21";
		return `${account.baseUrl}/openai/deployments/${encodeURIComponent(model)}${path}?api-version=${encodeURIComponent(version)}`;
	}
	return `${account.baseUrl}${path}`;
}

/** Whether the gateway must ask the upstream for the usage chunk the client did not request. */
export function needsUsageInjection(op: Operation, provider: ProviderRuntime, body: Record<string, unknown>): boolean {
	if (op !== "chat" && op !== "completions") return false;
	if (body.stream !== true || !provider.preset.streamUsage) return false;
	const so = body.stream_options as Record<string, unknown> | undefined | null;
	return !(so && so.include_usage === true);
}

/**
 * The request for an OpenAI-compatible upstream. The client's bytes go through untouched
 * when nothing must change (same model id, usage already requested); otherwise the body is
 * re-serialised with the upstream model and `stream_options.include_usage` set.
 */
export function buildOpenAIRequest(
	provider: ProviderRuntime,
	account: AccountRef,
	op: Operation,
	model: string,
	body: Record<string, unknown>,
	rawBody: string,
): UpstreamRequest {
	const inject = needsUsageInjection(op, provider, body);
	let out = rawBody;
	if (inject || body.model !== model) {
		const copy: Record<string, unknown> = { ...body, model };
		if (inject) copy.stream_options = { ...(body.stream_options as object | undefined), include_usage: true };
		out = JSON.stringify(copy);
	}
	return { url: openAIUrl(provider, account, op, model), headers: upstreamHeaders(provider, account), body: out };
}

/**
 * The request for a multipart upload: the client's bytes and Content-Type (boundary included)
 * go through untouched, except the `model` field when the upstream's id differs (an alias).
 */
export function buildOpenAIFormRequest(
	provider: ProviderRuntime,
	account: AccountRef,
	op: Operation,
	model: string,
	form: FormBody,
): UpstreamRequest {
	return {
		url: openAIUrl(provider, account, op, model),
		headers: { ...upstreamHeaders(provider, account), "content-type": form.contentType },
		body: withFormField(form, "model", model),
	};
}
