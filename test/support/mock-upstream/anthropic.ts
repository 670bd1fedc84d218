/** Anthropic Messages-shaped bodies, stream events and errors. */

import { json, namedFrame, type Reply, type ReplyContext, type SseFrame } from "./reply.ts";
import { sampleFor } from "./schema-sample.ts";
import { buildAnswer, contentText, countWords, promptTokensFor, splitPieces } from "./text.ts";

type Body = Record<string, unknown>;

const ERROR_TYPES: Record<number, string> = {
	400: "invalid_request_error",
	401: "authentication_error",
	403: "permission_error",
	404: "not_found_error",
	413: "request_too_large",
	429: "rate_limit_error",
	500: "api_error",
	529: "overloaded_error",
};

export function anthropicError(status: number, message: string): Reply {
	const type = ERROR_TYPES[status] ?? (status >= 500 ? "api_error" : "invalid_request_error");
	const headers: Record<string, string> = {};
	if (status === 429) {
		headers["retry-after"] = "2";
		headers["retry-after-ms"] = "2000";
	}
	return json({ type: "error", error: { type, message } }, status, headers);
}

const MID_ERROR = `event: error\ndata: ${JSON.stringify({
	type: "error",
	error: { type: "overloaded_error", message: "Overloaded" },
})}\n\n`;

interface Block {
	type?: string;
}
interface AnthropicMessage {
	role?: string;
	content?: unknown;
}

function messageTexts(body: Body): string[] {
	const texts: string[] = [];
	if (body.system !== undefined) texts.push(contentText(body.system));
	if (Array.isArray(body.messages))
		for (const m of body.messages as AnthropicMessage[]) texts.push(contentText(m.content));
	return texts;
}

/**
 * Input usage; when the raw request mentions `cache_control`, half of the prompt (rounded
 * down) is reported as a cache read and `input_tokens` holds the rest, as Anthropic does.
 */
export function inputUsage(body: Body, rawBody: string) {
	const total = promptTokensFor(messageTexts(body));
	const cacheRead = rawBody.includes('"cache_control"') ? Math.floor(total / 2) : 0;
	return {
		input_tokens: total - cacheRead,
		cache_creation_input_tokens: 0,
		cache_read_input_tokens: cacheRead,
	};
}

export function countTokens(body: Body): Reply {
	return json({ input_tokens: promptTokensFor(messageTexts(body)) });
}

function hasToolResult(content: unknown): boolean {
	return Array.isArray(content) && (content as Block[]).some((b) => b?.type === "tool_result");
}

export function messages(body: Body, rawBody: string, ctx: ReplyContext): Reply {
	if (typeof body.model !== "string") return anthropicError(400, "model: Field required");
	if (typeof body.max_tokens !== "number") return anthropicError(400, "max_tokens: Field required");
	if (!Array.isArray(body.messages)) return anthropicError(400, "messages: Field required");
	const msgs = body.messages as AnthropicMessage[];
	const last = msgs.at(-1);
	const tools = Array.isArray(body.tools) ? (body.tools as { name?: string; input_schema?: unknown }[]) : [];
	const choice = body.tool_choice as { type?: string; name?: string } | undefined;
	const toolChoice = choice?.type;
	// a forced tool (structured output) is answered with input matching its schema
	const forced = toolChoice === "tool" ? tools.find((t) => t.name === choice?.name) : undefined;
	const id = `msg_mock_${ctx.seq}`;
	const input = inputUsage(body, rawBody);

	let block: Record<string, unknown>;
	let deltas: unknown[];
	let outputTokens: number;
	let stopReason: string;
	if (last?.role === "user" && hasToolResult(last.content)) {
		const answer = buildAnswer(contentText(last.content), body.max_tokens, "tool result:");
		block = { type: "text", text: answer.text };
		deltas = answer.words.map((w, i) => ({
			type: "text_delta",
			text: i === 0 ? w : ` ${w}`,
		}));
		outputTokens = answer.words.length;
		stopReason = answer.truncated ? "max_tokens" : "end_turn";
	} else if (tools.length > 0 && toolChoice !== "none" && last?.role === "user") {
		const tool = forced ?? tools[0];
		const toolInput = forced ? sampleFor(forced.input_schema) : { q: contentText(last.content) };
		const args = JSON.stringify(toolInput);
		block = {
			type: "tool_use",
			id: `toolu_mock_${ctx.seq}`,
			name: tool.name ?? "tool",
			input: toolInput,
		};
		deltas = splitPieces(args, 4).map((partial_json) => ({
			type: "input_json_delta",
			partial_json,
		}));
		outputTokens = countWords(args);
		stopReason = "tool_use";
	} else {
		const lastUser = msgs.findLast((m) => m.role === "user");
		const answer = buildAnswer(contentText(lastUser?.content), body.max_tokens);
		block = { type: "text", text: answer.text };
		deltas = answer.words.map((w, i) => ({
			type: "text_delta",
			text: i === 0 ? w : ` ${w}`,
		}));
		outputTokens = answer.words.length;
		stopReason = answer.truncated ? "max_tokens" : "end_turn";
	}

	const message = (content: unknown[], stop: string | null, output: number) => ({
		id,
		type: "message",
		role: "assistant",
		model: body.model,
		content,
		stop_reason: stop,
		stop_sequence: null,
		usage: { ...input, output_tokens: output, service_tier: "standard" },
	});
	if (body.stream !== true) return json(message([block], stopReason, outputTokens), 200);

	const startBlock = block.type === "tool_use" ? { ...block, input: {} } : { type: "text", text: "" };
	const frames: SseFrame[] = [
		namedFrame("message_start", {
			type: "message_start",
			message: message([], null, 1),
		}),
		namedFrame("ping", { type: "ping" }),
		namedFrame("content_block_start", {
			type: "content_block_start",
			index: 0,
			content_block: startBlock,
		}),
		...deltas.map((delta) => namedFrame("content_block_delta", { type: "content_block_delta", index: 0, delta }, true)),
		namedFrame("content_block_stop", { type: "content_block_stop", index: 0 }),
		namedFrame("message_delta", {
			type: "message_delta",
			delta: { stop_reason: stopReason, stop_sequence: null },
			usage: { output_tokens: outputTokens },
		}),
		namedFrame("message_stop", { type: "message_stop" }),
	];
	return { kind: "sse", frames, midErrorFrame: MID_ERROR };
}

export function anthropicModelList(ctx: ReplyContext): Reply {
	const data = ctx.models.map((id) => ({
		type: "model",
		id,
		display_name: id,
		created_at: "2025-01-01T00:00:00Z",
	}));
	return json({
		data,
		has_more: false,
		first_id: data[0]?.id ?? null,
		last_id: data.at(-1)?.id ?? null,
	});
}
