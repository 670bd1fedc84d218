import { GatewayError } from "../../errors/gateway-error.ts";
import { asNumber, asString, isObject, type JsonObject } from "../json-value.ts";

type ContentPart =
	| { type: "text"; text: string }
	| { type: "image_url"; image_url: { url: string } }
	| { type: "file"; file: { filename: string; file_data: string } };

export interface OpenAIToolCallParam {
	id: string;
	type: "function";
	function: { name: string; arguments: string };
}

export type OpenAIMessageParam =
	| { role: "system"; content: string }
	| { role: "user"; content: string | ContentPart[] }
	| {
			role: "assistant";
			content: string | null;
			tool_calls?: OpenAIToolCallParam[];
	  }
	| { role: "tool"; tool_call_id: string; content: string };

/** The chat completion request body this module produces. */
export interface OpenAIChatRequest {
	model: string;
	messages: OpenAIMessageParam[];
	max_tokens?: number;
	tools?: {
		type: "function";
		function: { name: string; description?: string; parameters: JsonObject };
	}[];
	tool_choice?: "auto" | "none" | "required" | { type: "function"; function: { name: string } };
	parallel_tool_calls?: boolean;
	stop?: string[];
	temperature?: number;
	top_p?: number;
	user?: string;
	stream?: boolean;
	stream_options?: { include_usage: true };
}

const invalid = (message: string, param: string) => new GatewayError("PLATFORM_INVALID_REQUEST", message, { param });

/** Text of a string or an array of blocks; non-text blocks are left out. */
function flattenText(content: unknown): string {
	if (typeof content === "string") return content;
	if (!Array.isArray(content)) return "";
	return content
		.filter((b) => isObject(b) && b.type === "text")
		.map((b) => asString((b as JsonObject).text) ?? "")
		.join("\n");
}

function sourceUrl(source: unknown, param: string): string {
	if (!isObject(source)) throw invalid("block needs a source", param);
	if (source.type === "url" && asString(source.url)) return source.url as string;
	if (source.type === "base64" && asString(source.data) && asString(source.media_type)) {
		return `data:${source.media_type};base64,${source.data}`;
	}
	throw invalid(`source type ${String(source.type)} is not supported for this model`, param);
}

function userPart(block: JsonObject, param: string): ContentPart {
	switch (block.type) {
		case "text":
			return { type: "text", text: asString(block.text) ?? "" };
		case "image":
			return {
				type: "image_url",
				image_url: { url: sourceUrl(block.source, `${param}.source`) },
			};
		case "document": {
			const source = isObject(block.source) ? block.source : {};
			if (source.type === "text") return { type: "text", text: asString(source.data) ?? "" };
			const url = sourceUrl(source, `${param}.source`);
			if (!url.startsWith("data:")) throw invalid("document URLs are not supported for this model", param);
			return {
				type: "file",
				file: {
					filename: asString(block.title) ?? "document.pdf",
					file_data: url,
				},
			};
		}
		default:
			throw invalid(`content block type ${String(block.type)} is not supported for this model`, `${param}.type`);
	}
}

/** One Anthropic user turn → tool messages (they must follow the assistant turn directly) then user content. */
function userMessages(content: unknown, param: string): OpenAIMessageParam[] {
	if (typeof content === "string") return [{ role: "user", content }];
	if (!Array.isArray(content)) throw invalid("content must be a string or an array of blocks", param);
	const tools: OpenAIMessageParam[] = [];
	const parts: ContentPart[] = [];
	content.forEach((b, i) => {
		const p = `${param}[${i}]`;
		if (!isObject(b)) throw invalid("content block must be an object", p);
		if (b.type === "tool_result") {
			const id = asString(b.tool_use_id);
			if (!id) throw invalid("tool_result needs tool_use_id", `${p}.tool_use_id`);
			const text = flattenText(b.content);
			tools.push({
				role: "tool",
				tool_call_id: id,
				content: b.is_error === true && !text ? "error" : text,
			});
		} else {
			parts.push(userPart(b, p));
		}
	});
	if (parts.length === 0) return tools;
	const only = parts.length === 1 ? parts[0] : undefined;
	return [...tools, { role: "user", content: only?.type === "text" ? only.text : parts }];
}

function assistantMessage(content: unknown, param: string): OpenAIMessageParam {
	if (typeof content === "string") return { role: "assistant", content };
	if (!Array.isArray(content)) throw invalid("content must be a string or an array of blocks", param);
	const text: string[] = [];
	const toolCalls: OpenAIToolCallParam[] = [];
	for (const b of content) {
		if (!isObject(b)) continue;
		if (b.type === "text") text.push(asString(b.text) ?? "");
		else if (b.type === "tool_use") {
			toolCalls.push({
				id: asString(b.id) ?? "",
				type: "function",
				function: {
					name: asString(b.name) ?? "",
					arguments: JSON.stringify(b.input ?? {}),
				},
			});
		}
		// thinking blocks are the model's own scratch work: OpenAI-type upstreams do not take them back
	}
	const msg: OpenAIMessageParam = {
		role: "assistant",
		content: text.length > 0 ? text.join("") : null,
	};
	if (toolCalls.length > 0) msg.tool_calls = toolCalls;
	return msg;
}

function convertTools(raw: unknown): OpenAIChatRequest["tools"] {
	if (raw === undefined || raw === null) return undefined;
	if (!Array.isArray(raw)) throw invalid("tools must be an array", "tools");
	return raw.map((t, i) => {
		// client tools have no type or "custom"; server tools (web_search_…, bash_…) cannot run elsewhere
		if (!isObject(t) || (t.type !== undefined && t.type !== "custom") || !asString(t.name)) {
			throw invalid("only custom tools with a name are supported for this model", `tools[${i}]`);
		}
		const fn: { name: string; description?: string; parameters: JsonObject } = {
			name: t.name as string,
			parameters: isObject(t.input_schema) ? t.input_schema : { type: "object", properties: {} },
		};
		const description = asString(t.description);
		if (description) fn.description = description;
		return { type: "function" as const, function: fn };
	});
}

function applyToolChoice(out: OpenAIChatRequest, raw: unknown): void {
	if (!isObject(raw)) return;
	if (raw.type === "auto") out.tool_choice = "auto";
	else if (raw.type === "any") out.tool_choice = "required";
	else if (raw.type === "none") out.tool_choice = "none";
	else if (raw.type === "tool" && asString(raw.name)) {
		out.tool_choice = {
			type: "function",
			function: { name: raw.name as string },
		};
	} else throw invalid("unsupported tool_choice", "tool_choice");
	if (raw.disable_parallel_tool_use === true) out.parallel_tool_calls = false;
}

/**
 * Anthropic Messages request body → OpenAI chat completion request body for `upstreamModel`.
 * Throws GatewayError(PLATFORM_INVALID_REQUEST) naming the param for what OpenAI cannot take.
 */
export function anthropicToOpenAIRequest(body: JsonObject, upstreamModel: string): OpenAIChatRequest {
	const messages: OpenAIMessageParam[] = [];
	const system = flattenText(body.system);
	if (system) messages.push({ role: "system", content: system });
	if (!Array.isArray(body.messages)) throw invalid("messages must be an array", "messages");
	body.messages.forEach((m, i) => {
		const p = `messages[${i}]`;
		if (!isObject(m)) throw invalid("message must be an object", p);
		if (m.role === "user") messages.push(...userMessages(m.content, `${p}.content`));
		else if (m.role === "assistant") messages.push(assistantMessage(m.content, `${p}.content`));
		else if (m.role === "system") {
			const text = flattenText(m.content);
			if (text) messages.push({ role: "system", content: text });
		} else throw invalid(`message role ${String(m.role)} is not supported`, `${p}.role`);
	});

	const out: OpenAIChatRequest = { model: upstreamModel, messages };
	const maxTokens = asNumber(body.max_tokens);
	if (maxTokens !== undefined) out.max_tokens = maxTokens;
	const tools = convertTools(body.tools);
	if (tools && tools.length > 0) {
		out.tools = tools;
		applyToolChoice(out, body.tool_choice);
	}
	if (Array.isArray(body.stop_sequences) && body.stop_sequences.length > 0) {
		out.stop = body.stop_sequences.filter((s): s is string => typeof s === "string");
	}
	const temperature = asNumber(body.temperature);
	if (temperature !== undefined) out.temperature = temperature;
	const topP = asNumber(body.top_p);
	if (topP !== undefined) out.top_p = topP;
	const user = isObject(body.metadata) ? asString(body.metadata.user_id) : undefined;
	if (user) out.user = user;
	if (body.stream === true) {
		out.stream = true;
		// the Anthropic stream must end with usage; OpenAI only sends it when asked
		out.stream_options = { include_usage: true };
	}
	return out;
}
