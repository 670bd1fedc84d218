/** OpenAI-shaped bodies: chat, completions, embeddings, responses, models and errors. */

import { dataFrame, json, namedFrame, type Reply, type ReplyContext, type SseFrame } from "./reply.ts";
import { sampleFor } from "./schema-sample.ts";
import {
	type Answer,
	buildAnswer,
	contentText,
	countWords,
	embeddingFor,
	promptTokensFor,
	splitPieces,
} from "./text.ts";

type Body = Record<string, unknown>;

const ERROR_TYPES: Record<number, [type: string, code: string]> = {
	400: ["invalid_request_error", "invalid_request"],
	401: ["invalid_request_error", "invalid_api_key"],
	403: ["invalid_request_error", "forbidden"],
	404: ["invalid_request_error", "model_not_found"],
	429: ["rate_limit_error", "rate_limit_exceeded"],
	500: ["server_error", "internal_error"],
	503: ["server_error", "service_unavailable"],
};

export function openaiError(status: number, message: string): Reply {
	const [type, code] = ERROR_TYPES[status] ?? ["server_error", `http_${status}`];
	const headers: Record<string, string> = {};
	if (status === 429) {
		headers["retry-after"] = "2";
		headers["retry-after-ms"] = "2000";
	}
	return json({ error: { message, type, param: null, code } }, status, headers);
}

const MID_ERROR = `data: ${JSON.stringify({
	error: {
		message: "mock: upstream failed mid-stream",
		type: "server_error",
		param: null,
		code: "mid_stream_error",
	},
})}\n\n`;
const DONE: SseFrame = { text: "data: [DONE]\n\n", content: false };

function requireModel(body: Body): Reply | null {
	if (typeof body.model !== "string" || body.model === "") {
		return openaiError(400, "you must provide a model parameter");
	}
	return null;
}

function maxTokensOf(...values: unknown[]): number | undefined {
	for (const v of values) if (typeof v === "number" && v >= 0) return v;
	return undefined;
}

function chatUsage(prompt: number, completion: number) {
	return {
		prompt_tokens: prompt,
		completion_tokens: completion,
		total_tokens: prompt + completion,
		prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
		completion_tokens_details: {
			reasoning_tokens: 0,
			audio_tokens: 0,
			accepted_prediction_tokens: 0,
			rejected_prediction_tokens: 0,
		},
	};
}

interface ChatMessage {
	role?: string;
	content?: unknown;
}

interface ToolCall {
	id: string;
	name: string;
	arguments: string;
}

type ChatPlan = { answer: Answer; tool: null } | { answer: null; tool: ToolCall };

function planChat(body: Body, ctx: ReplyContext, messages: ChatMessage[]): ChatPlan {
	const last = messages.at(-1);
	const lastUser = messages.findLast((m) => m.role === "user");
	const lastUserText = contentText(lastUser?.content);
	const maxTokens = maxTokensOf(body.max_completion_tokens, body.max_tokens) ?? ctx.answerWords;
	const tools = Array.isArray(body.tools)
		? (body.tools as { function?: { name?: string; parameters?: unknown } }[])
		: [];
	if (tools.length > 0 && body.tool_choice !== "none" && last?.role === "user") {
		// a forced function (structured output through a tool) gets arguments matching its schema
		const forcedName = (body.tool_choice as { function?: { name?: string } } | undefined)?.function?.name;
		const forced = tools.find((t) => forcedName !== undefined && t.function?.name === forcedName);
		return {
			answer: null,
			tool: {
				id: `call_mock_${ctx.seq}`,
				name: (forced ?? tools[0]).function?.name ?? "tool",
				arguments: JSON.stringify(forced ? sampleFor(forced.function?.parameters) : { q: lastUserText }),
			},
		};
	}
	const structured = structuredAnswer(body.response_format);
	if (structured !== null) return { answer: structured, tool: null };
	if (last?.role === "tool") {
		return {
			answer: buildAnswer(contentText(last.content), maxTokens, "tool result:"),
			tool: null,
		};
	}
	return { answer: buildAnswer(lastUserText, maxTokens), tool: null };
}

/** response_format / text.format asking for JSON → an answer that is that JSON, else null. */
function structuredAnswer(format: unknown): Answer | null {
	const f = format as { type?: string; schema?: unknown; json_schema?: { schema?: unknown } } | undefined;
	if (f?.type !== "json_schema" && f?.type !== "json_object") return null;
	const value = f.type === "json_object" ? { answer: "mock" } : sampleFor(f.json_schema?.schema ?? f.schema);
	const text = JSON.stringify(value);
	return { words: [text], text, truncated: false };
}

export function chatCompletion(body: Body, ctx: ReplyContext): Reply {
	const bad = requireModel(body);
	if (bad) return bad;
	if (!Array.isArray(body.messages)) return openaiError(400, "messages must be an array");
	const messages = body.messages as ChatMessage[];
	const prompt = promptTokensFor(messages.map((m) => contentText(m.content)));
	const plan = planChat(body, ctx, messages);
	const completion = plan.tool ? countWords(plan.tool.arguments) : plan.answer.words.length;
	const finish = plan.tool ? "tool_calls" : plan.answer.truncated ? "length" : "stop";
	const id = `chatcmpl-mock-${ctx.seq}`;
	const model = body.model as string;
	const usage = chatUsage(prompt, completion);

	if (body.stream !== true) {
		const message = plan.tool
			? {
					role: "assistant",
					content: null,
					refusal: null,
					tool_calls: [
						{
							id: plan.tool.id,
							type: "function",
							function: {
								name: plan.tool.name,
								arguments: plan.tool.arguments,
							},
						},
					],
				}
			: {
					role: "assistant",
					content: plan.answer.text,
					refusal: null,
					annotations: [],
				};
		return json({
			id,
			object: "chat.completion",
			created: ctx.nowSeconds,
			model,
			system_fingerprint: "fp_mock",
			choices: [{ index: 0, message, logprobs: null, finish_reason: finish }],
			usage,
			service_tier: "default",
		});
	}

	const includeUsage = (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
	const chunk = (delta: unknown, finishReason: string | null) => {
		const c: Record<string, unknown> = {
			id,
			object: "chat.completion.chunk",
			created: ctx.nowSeconds,
			model,
			system_fingerprint: "fp_mock",
			choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
		};
		if (includeUsage) c.usage = null;
		return c;
	};
	const frames: SseFrame[] = [];
	if (plan.tool) {
		const t = plan.tool;
		frames.push(
			dataFrame(
				chunk(
					{
						role: "assistant",
						content: null,
						tool_calls: [
							{
								index: 0,
								id: t.id,
								type: "function",
								function: { name: t.name, arguments: "" },
							},
						],
					},
					null,
				),
			),
		);
		for (const piece of splitPieces(t.arguments, 4)) {
			frames.push(dataFrame(chunk({ tool_calls: [{ index: 0, function: { arguments: piece } }] }, null), true));
		}
	} else {
		frames.push(dataFrame(chunk({ role: "assistant", content: "", refusal: null }, null)));
		plan.answer.words.forEach((w, i) => {
			frames.push(dataFrame(chunk({ content: i === 0 ? w : ` ${w}` }, null), true));
		});
	}
	frames.push(dataFrame(chunk({}, finish)));
	if (includeUsage) {
		frames.push(
			dataFrame({
				id,
				object: "chat.completion.chunk",
				created: ctx.nowSeconds,
				model,
				system_fingerprint: "fp_mock",
				choices: [],
				usage,
			}),
		);
	}
	frames.push(DONE);
	return { kind: "sse", frames, midErrorFrame: MID_ERROR };
}

export function textCompletion(body: Body, ctx: ReplyContext): Reply {
	const bad = requireModel(body);
	if (bad) return bad;
	const prompts =
		typeof body.prompt === "string" ? [body.prompt] : Array.isArray(body.prompt) ? body.prompt.map(String) : [];
	const prompt = promptTokensFor(prompts);
	const answer = buildAnswer(prompts.at(-1) ?? "", maxTokensOf(body.max_tokens));
	const finish = answer.truncated ? "length" : "stop";
	const id = `cmpl-mock-${ctx.seq}`;
	const model = body.model as string;
	const usage = {
		prompt_tokens: prompt,
		completion_tokens: answer.words.length,
		total_tokens: prompt + answer.words.length,
	};
	if (body.stream !== true) {
		return json({
			id,
			object: "text_completion",
			created: ctx.nowSeconds,
			model,
			choices: [{ text: answer.text, index: 0, logprobs: null, finish_reason: finish }],
			usage,
		});
	}
	const includeUsage = (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
	const chunk = (text: string, finishReason: string | null) => {
		const c: Record<string, unknown> = {
			id,
			object: "text_completion",
			created: ctx.nowSeconds,
			model,
			choices: [{ text, index: 0, logprobs: null, finish_reason: finishReason }],
		};
		if (includeUsage) c.usage = null;
		return c;
	};
	const frames: SseFrame[] = answer.words.map((w, i) => dataFrame(chunk(i === 0 ? w : ` ${w}`, null), true));
	frames.push(dataFrame(chunk("", finish)));
	if (includeUsage) {
		frames.push(
			dataFrame({
				id,
				object: "text_completion",
				created: ctx.nowSeconds,
				model,
				choices: [],
				usage,
			}),
		);
	}
	frames.push(DONE);
	return { kind: "sse", frames, midErrorFrame: MID_ERROR };
}

export function embeddings(body: Body, ctx: ReplyContext): Reply {
	const bad = requireModel(body);
	if (bad) return bad;
	const raw = body.input;
	const inputs: string[] =
		typeof raw === "string"
			? [raw]
			: Array.isArray(raw)
				? raw.length > 0 && typeof raw[0] === "number"
					? [raw.join(" ")]
					: raw.map((x) => (typeof x === "string" ? x : Array.isArray(x) ? x.join(" ") : String(x)))
				: [];
	if (inputs.length === 0) return openaiError(400, "input must be a non-empty string or array");
	const dims = typeof body.dimensions === "number" ? body.dimensions : ctx.embeddingDims;
	const base64 = body.encoding_format === "base64";
	const data = inputs.map((text, index) => {
		const v = embeddingFor(text, dims);
		const embedding = base64 ? Buffer.from(new Float32Array(v).buffer).toString("base64") : v;
		return { object: "embedding", index, embedding };
	});
	const prompt = promptTokensFor(inputs);
	return json({
		object: "list",
		data,
		model: body.model,
		usage: { prompt_tokens: prompt, total_tokens: prompt },
	});
}

interface ResponsesItem {
	type?: string;
	role?: string;
	content?: unknown;
	output?: unknown;
}

export function responses(body: Body, ctx: ReplyContext): Reply {
	const bad = requireModel(body);
	if (bad) return bad;
	const texts: string[] = [];
	if (typeof body.instructions === "string") texts.push(body.instructions);
	let lastUserText = "";
	if (typeof body.input === "string") {
		texts.push(body.input);
		lastUserText = body.input;
	} else if (Array.isArray(body.input)) {
		for (const item of body.input as ResponsesItem[]) {
			const text = item.type === "function_call_output" ? String(item.output ?? "") : contentText(item.content);
			texts.push(text);
			if (item.role === "user") lastUserText = text;
		}
	}
	const input = promptTokensFor(texts);
	const answer =
		structuredAnswer((body.text as { format?: unknown } | undefined)?.format) ??
		buildAnswer(lastUserText, maxTokensOf(body.max_output_tokens));
	const id = `resp_mock_${ctx.seq}`;
	const itemId = `msg_mock_${ctx.seq}`;
	const usage = {
		input_tokens: input,
		input_tokens_details: { cached_tokens: 0 },
		output_tokens: answer.words.length,
		output_tokens_details: { reasoning_tokens: 0 },
		total_tokens: input + answer.words.length,
	};
	const part = {
		type: "output_text",
		text: answer.text,
		annotations: [],
		logprobs: [],
	};
	const item = {
		type: "message",
		id: itemId,
		status: "completed",
		role: "assistant",
		content: [part],
	};
	const response = (status: string, output: unknown[], u: unknown) => ({
		id,
		object: "response",
		created_at: ctx.nowSeconds,
		status,
		error: null,
		incomplete_details: null,
		instructions: body.instructions ?? null,
		max_output_tokens: body.max_output_tokens ?? null,
		model: body.model,
		output,
		parallel_tool_calls: true,
		previous_response_id: null,
		reasoning: { effort: null, summary: null },
		store: false,
		temperature: 1,
		text: { format: { type: "text" } },
		tool_choice: "auto",
		tools: [],
		top_p: 1,
		truncation: "disabled",
		usage: u,
		user: null,
		metadata: {},
	});
	if (body.stream !== true) return json(response("completed", [item], usage));

	let seq = 0;
	const ev = (type: string, payload: Record<string, unknown>, content = false) =>
		namedFrame(type, { type, ...payload, sequence_number: seq++ }, content);
	const at = { item_id: itemId, output_index: 0, content_index: 0 };
	const frames: SseFrame[] = [
		ev("response.created", { response: response("in_progress", [], null) }),
		ev("response.in_progress", { response: response("in_progress", [], null) }),
		ev("response.output_item.added", {
			output_index: 0,
			item: {
				type: "message",
				id: itemId,
				status: "in_progress",
				role: "assistant",
				content: [],
			},
		}),
		ev("response.content_part.added", {
			...at,
			part: { type: "output_text", text: "", annotations: [], logprobs: [] },
		}),
	];
	answer.words.forEach((w, i) => {
		frames.push(ev("response.output_text.delta", { ...at, delta: i === 0 ? w : ` ${w}`, logprobs: [] }, true));
	});
	frames.push(
		ev("response.output_text.done", { ...at, text: answer.text, logprobs: [] }),
		ev("response.content_part.done", { ...at, part }),
		ev("response.output_item.done", { output_index: 0, item }),
		ev("response.completed", {
			response: response("completed", [item], usage),
		}),
	);
	const midErrorFrame = `event: error\ndata: ${JSON.stringify({
		type: "error",
		code: "server_error",
		message: "mock: upstream failed mid-stream",
		param: null,
		sequence_number: 999,
	})}\n\n`;
	return { kind: "sse", frames, midErrorFrame };
}

export function modelList(ctx: ReplyContext): Reply {
	return json({
		object: "list",
		data: ctx.models.map((id) => ({
			id,
			object: "model",
			created: 1_700_000_000,
			owned_by: "mock",
		})),
	});
}
