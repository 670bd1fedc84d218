import { GatewayError } from "../../errors/gateway-error.ts";
import { asNumber, asString, isObject, type JsonObject } from "../json-value.ts";
import { ANSWER_TOOL, answerTool } from "./structured-output.ts";

/** Anthropic requires max_tokens; OpenAI clients usually leave it out. */
export const DEFAULT_MAX_TOKENS = 4096;

/** Thinking budget per OpenAI reasoning_effort (Anthropic's minimum budget is 1024). */
export const THINKING_BUDGETS: Readonly<Record<string, number>> = {
	minimal: 1024,
	low: 2048,
	medium: 8192,
	high: 16384,
	xhigh: 32768,
};
const MIN_THINKING_BUDGET = 1024;

export type AnthropicBlock = JsonObject & { type: string };

export interface AnthropicMessageParam {
	role: "user" | "assistant";
	content: string | AnthropicBlock[];
}

export interface AnthropicTool {
	name: string;
	description?: string;
	input_schema: JsonObject;
}

export type AnthropicToolChoice =
	| { type: "auto" | "any"; disable_parallel_tool_use?: boolean }
	| { type: "tool"; name: string; disable_parallel_tool_use?: boolean }
	| { type: "none" };

/** The Anthropic Messages request body this module produces. */
export interface AnthropicRequest {
	model: string;
	max_tokens: number;
	messages: AnthropicMessageParam[];
	system?: string | { type: "text"; text: string }[];
	tools?: AnthropicTool[];
	tool_choice?: AnthropicToolChoice;
	stop_sequences?: string[];
	temperature?: number;
	top_p?: number;
	metadata?: { user_id: string };
	stream?: boolean;
	thinking?: { type: "enabled"; budget_tokens: number };
}

const invalid = (message: string, param: string) => new GatewayError("PLATFORM_INVALID_REQUEST", message, { param });

const IMAGE_TYPES = new Set(["image/jpeg", "image/png", "image/gif", "image/webp"]);
const DATA_URL = /^data:([^;,]+)((?:;[^;,]*)*),(.*)$/s;

function imageBlock(url: string, param: string): AnthropicBlock {
	if (/^https?:\/\//i.test(url)) return { type: "image", source: { type: "url", url } };
	const m = DATA_URL.exec(url);
	if (!m) throw invalid("image_url must be an http(s) URL or a base64 data: URL", param);
	const mediaType = m[1].toLowerCase();
	if (!m[2].split(";").includes("base64")) throw invalid("data: URLs must be base64-encoded", param);
	if (!IMAGE_TYPES.has(mediaType)) throw invalid(`unsupported image type ${mediaType}`, param);
	return {
		type: "image",
		source: { type: "base64", media_type: mediaType, data: m[3] },
	};
}

function fileBlock(file: unknown, param: string): AnthropicBlock {
	const data = isObject(file) ? asString(file.file_data) : undefined;
	const m = DATA_URL.exec(data ?? "");
	const isPdf = m !== null && m[1].toLowerCase() === "application/pdf" && m[2].includes("base64");
	if (!m || !isPdf) {
		throw invalid("only base64 PDF file_data is supported for this model", param);
	}
	return {
		type: "document",
		source: { type: "base64", media_type: "application/pdf", data: m[3] },
	};
}

/** OpenAI message content (string or parts) → Anthropic blocks; empty text is dropped (Anthropic rejects it). */
function contentBlocks(content: unknown, param: string): AnthropicBlock[] {
	if (content === null || content === undefined) return [];
	if (typeof content === "string") return content ? [{ type: "text", text: content }] : [];
	if (!Array.isArray(content)) throw invalid("content must be a string or an array of parts", param);
	const out: AnthropicBlock[] = [];
	content.forEach((part, i) => {
		const p = `${param}[${i}]`;
		if (!isObject(part)) throw invalid("content part must be an object", p);
		switch (part.type) {
			case "text": {
				const text = asString(part.text);
				if (text === undefined) throw invalid("text part needs a text string", `${p}.text`);
				if (text) out.push({ type: "text", text });
				break;
			}
			case "refusal": {
				const text = asString(part.refusal);
				if (text) out.push({ type: "text", text });
				break;
			}
			case "image_url": {
				const url = isObject(part.image_url) ? asString(part.image_url.url) : asString(part.image_url);
				if (!url) throw invalid("image_url part needs image_url.url", `${p}.image_url`);
				out.push(imageBlock(url, `${p}.image_url.url`));
				break;
			}
			case "file":
				out.push(fileBlock(part.file, `${p}.file`));
				break;
			default:
				throw invalid(`content part type ${String(part.type)} is not supported for this model`, `${p}.type`);
		}
	});
	return out;
}

function textOf(content: unknown, param: string): string {
	return contentBlocks(content, param)
		.map((b) => (b.type === "text" ? (b.text as string) : ""))
		.join("");
}

function parseArguments(args: unknown, param: string): JsonObject {
	if (isObject(args)) return args;
	const s = asString(args) ?? "";
	// models emit "" for functions without parameters
	if (s.trim() === "") return {};
	let parsed: unknown;
	try {
		parsed = JSON.parse(s);
	} catch {
		throw invalid("tool call arguments are not valid JSON", param);
	}
	if (!isObject(parsed)) throw invalid("tool call arguments must be a JSON object", param);
	return parsed;
}

function toolUseBlocks(toolCalls: unknown, param: string): AnthropicBlock[] {
	if (toolCalls === undefined || toolCalls === null) return [];
	if (!Array.isArray(toolCalls)) throw invalid("tool_calls must be an array", param);
	return toolCalls.map((tc, i) => {
		const p = `${param}[${i}]`;
		const fn = isObject(tc) ? tc.function : undefined;
		const id = isObject(tc) ? asString(tc.id) : undefined;
		const name = isObject(fn) ? asString(fn.name) : undefined;
		if (!id || !name || !isObject(fn)) throw invalid("tool call needs id and function.name", p);
		return {
			type: "tool_use",
			id,
			name,
			input: parseArguments(fn.arguments, `${p}.function.arguments`),
		};
	});
}

/** Collapses a lone text block to a plain string, the shape people read most easily. */
function compact(blocks: AnthropicBlock[]): string | AnthropicBlock[] {
	return blocks.length === 1 && blocks[0].type === "text" && Object.keys(blocks[0]).length === 2
		? (blocks[0].text as string)
		: blocks;
}

interface Converted {
	system: { type: "text"; text: string }[];
	messages: AnthropicMessageParam[];
}

function convertMessages(raw: unknown): Converted {
	if (!Array.isArray(raw)) throw invalid("messages must be an array", "messages");
	const system: { type: "text"; text: string }[] = [];
	const turns: { role: "user" | "assistant"; blocks: AnthropicBlock[] }[] = [];
	const push = (role: "user" | "assistant", blocks: AnthropicBlock[]) => {
		if (blocks.length === 0) return;
		const last = turns.at(-1);
		// Anthropic wants strict user/assistant alternation
		if (last?.role === role) last.blocks.push(...blocks);
		else turns.push({ role, blocks });
	};
	raw.forEach((m, i) => {
		const p = `messages[${i}]`;
		if (!isObject(m)) throw invalid("message must be an object", p);
		switch (m.role) {
			case "system":
			case "developer": {
				const text = textOf(m.content, `${p}.content`);
				if (text) system.push({ type: "text", text });
				break;
			}
			case "user":
				push("user", contentBlocks(m.content, `${p}.content`));
				break;
			case "assistant":
				push("assistant", [
					...contentBlocks(m.content, `${p}.content`),
					...toolUseBlocks(m.tool_calls, `${p}.tool_calls`),
				]);
				break;
			case "tool": {
				const id = asString(m.tool_call_id);
				if (!id) throw invalid("tool message needs tool_call_id", `${p}.tool_call_id`);
				push("user", [
					{
						type: "tool_result",
						tool_use_id: id,
						content: textOf(m.content, `${p}.content`),
					},
				]);
				break;
			}
			default:
				throw invalid(`message role ${String(m.role)} is not supported for this model`, `${p}.role`);
		}
	});
	return {
		system,
		messages: turns.map((t) => ({ role: t.role, content: compact(t.blocks) })),
	};
}

function convertTools(raw: unknown): AnthropicTool[] | undefined {
	if (raw === undefined || raw === null) return undefined;
	if (!Array.isArray(raw)) throw invalid("tools must be an array", "tools");
	return raw.map((t, i) => {
		const fn = isObject(t) ? t.function : undefined;
		if (!isObject(t) || t.type !== "function" || !isObject(fn)) {
			throw invalid("only function tools are supported for this model", `tools[${i}].type`);
		}
		const name = asString(fn.name);
		if (!name) throw invalid("function tool needs a name", `tools[${i}].function.name`);
		const tool: AnthropicTool = {
			name,
			input_schema: isObject(fn.parameters) ? fn.parameters : { type: "object", properties: {} },
		};
		const description = asString(fn.description);
		if (description) tool.description = description;
		return tool;
	});
}

function convertToolChoice(raw: unknown, parallel: unknown): AnthropicToolChoice | undefined {
	const noParallel = parallel === false ? { disable_parallel_tool_use: true } : {};
	if (raw === undefined || raw === null) return parallel === false ? { type: "auto", ...noParallel } : undefined;
	if (raw === "auto") return { type: "auto", ...noParallel };
	if (raw === "required") return { type: "any", ...noParallel };
	if (raw === "none") return { type: "none" };
	const name = isObject(raw) && isObject(raw.function) ? asString(raw.function.name) : undefined;
	if (name) return { type: "tool", name, ...noParallel };
	throw invalid("unsupported tool_choice", "tool_choice");
}

function convertStop(raw: unknown): string[] | undefined {
	if (raw === undefined || raw === null) return undefined;
	const list = typeof raw === "string" ? [raw] : raw;
	if (!Array.isArray(list) || !list.every((s) => typeof s === "string")) {
		throw invalid("stop must be a string or an array of strings", "stop");
	}
	return list.length > 0 ? list : undefined;
}

/**
 * OpenAI chat completion request body → Anthropic Messages request body for `upstreamModel`.
 * Throws GatewayError(PLATFORM_INVALID_REQUEST) naming the param when the request cannot be
 * expressed for Anthropic. Unknown OpenAI fields are ignored.
 */
export function openAIToAnthropicRequest(body: JsonObject, upstreamModel: string): AnthropicRequest {
	const n = asNumber(body.n);
	if (n !== undefined && n !== 1) throw invalid("n > 1 is not supported for this model", "n");
	const { system, messages } = convertMessages(body.messages);
	const requested = asNumber(body.max_completion_tokens) ?? asNumber(body.max_tokens);
	const out: AnthropicRequest = {
		model: upstreamModel,
		max_tokens: requested ?? DEFAULT_MAX_TOKENS,
		messages,
	};
	if (system.length > 0) out.system = system.length === 1 ? system[0].text : system;

	const tools = convertTools(body.tools);
	if (tools && tools.length > 0) {
		out.tools = tools;
		const choice = convertToolChoice(body.tool_choice, body.parallel_tool_calls);
		if (choice) out.tool_choice = choice;
	}
	applyResponseFormat(out, body.response_format);
	const stop = convertStop(body.stop);
	if (stop) out.stop_sequences = stop;
	const temperature = asNumber(body.temperature);
	// OpenAI allows 0–2, Anthropic 0–1: clamp rather than fail a request that worked on OpenAI
	if (temperature !== undefined) out.temperature = Math.min(Math.max(temperature, 0), 1);
	const topP = asNumber(body.top_p);
	if (topP !== undefined) out.top_p = topP;
	const user = asString(body.user);
	if (user) out.metadata = { user_id: user };
	if (typeof body.stream === "boolean") out.stream = body.stream;

	applyReasoningEffort(out, asString(body.reasoning_effort), requested === undefined);
	return out;
}

/**
 * response_format → a forced answer tool. Beside the client's own tools the model must call
 * one of them or the answer tool (`any`); a client that ruled tools out gets the answer tool alone.
 */
function applyResponseFormat(out: AnthropicRequest, format: unknown): void {
	const tool = answerTool(format);
	if (!tool) return;
	if (out.tools?.some((t) => t.name === ANSWER_TOOL)) {
		throw invalid(`the tool name ${ANSWER_TOOL} is reserved for structured output on this model`, "tools");
	}
	if (!out.tools || out.tool_choice?.type === "none") {
		out.tools = [tool];
		out.tool_choice = { type: "tool", name: ANSWER_TOOL };
		return;
	}
	out.tools.push(tool);
	// a client that forced one of its own tools keeps that choice
	if (out.tool_choice?.type !== "tool") out.tool_choice = { type: "any" };
}

/** reasoning_effort → extended thinking, keeping the constraints Anthropic puts on it. */
function applyReasoningEffort(out: AnthropicRequest, effort: string | undefined, defaultMax: boolean): void {
	const budget = effort ? THINKING_BUDGETS[effort] : undefined;
	if (budget === undefined) return;
	// Anthropic refuses thinking together with a forced tool choice
	if (out.tool_choice?.type === "any" || out.tool_choice?.type === "tool") return;
	// OpenAI's max tokens include reasoning, like Anthropic's; only grow it when the client gave none
	if (defaultMax) out.max_tokens = DEFAULT_MAX_TOKENS + budget;
	const fitted = Math.min(budget, out.max_tokens - 1);
	if (fitted < MIN_THINKING_BUDGET) return;
	out.thinking = { type: "enabled", budget_tokens: fitted };
	// thinking requires the default sampling settings
	delete out.temperature;
	delete out.top_p;
}
