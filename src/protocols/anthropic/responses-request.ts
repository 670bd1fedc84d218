import { GatewayError } from "../../errors/gateway-error.ts";
import { asString, isObject, type JsonObject } from "../json-value.ts";
import { answerTool } from "./structured-output.ts";

const invalid = (message: string, param: string) => new GatewayError("PLATFORM_INVALID_REQUEST", message, { param });

/** Responses content parts → chat content parts (the chat translator takes it from there). */
function chatParts(content: unknown, param: string): unknown {
	if (typeof content === "string" || content === undefined || content === null) return content ?? "";
	if (!Array.isArray(content)) throw invalid("content must be a string or an array of parts", param);
	return content.map((part, i) => {
		const p = `${param}[${i}]`;
		if (!isObject(part)) throw invalid("content part must be an object", p);
		switch (part.type) {
			case "input_text":
			case "output_text":
				return { type: "text", text: asString(part.text) ?? "" };
			case "refusal":
				return { type: "refusal", refusal: asString(part.refusal) ?? "" };
			case "input_image": {
				const url = asString(part.image_url);
				if (!url) throw invalid("input_image needs image_url (file ids are not supported for this model)", p);
				return { type: "image_url", image_url: { url } };
			}
			case "input_file":
				return { type: "file", file: { file_data: part.file_data } };
			default:
				throw invalid(`content part type ${String(part.type)} is not supported for this model`, `${p}.type`);
		}
	});
}

/** function_call_output.output: a string, or parts whose text is joined. */
function outputText(output: unknown): string {
	if (typeof output === "string") return output;
	if (!Array.isArray(output)) return JSON.stringify(output ?? "");
	return output.map((p) => (isObject(p) ? (asString(p.text) ?? "") : "")).join("");
}

function inputMessages(input: unknown): JsonObject[] {
	if (typeof input === "string") return [{ role: "user", content: input }];
	if (!Array.isArray(input)) throw invalid("input must be a string or an array of items", "input");
	const out: JsonObject[] = [];
	input.forEach((item, i) => {
		const p = `input[${i}]`;
		if (!isObject(item)) throw invalid("input item must be an object", p);
		const type = item.type ?? (item.role !== undefined ? "message" : undefined);
		switch (type) {
			case "message":
				out.push({ role: item.role, content: chatParts(item.content, `${p}.content`) });
				break;
			case "function_call": {
				const callId = asString(item.call_id);
				const name = asString(item.name);
				if (!callId || !name) throw invalid("function_call needs call_id and name", p);
				out.push({
					role: "assistant",
					content: null,
					tool_calls: [{ id: callId, type: "function", function: { name, arguments: item.arguments ?? "" } }],
				});
				break;
			}
			case "function_call_output": {
				const callId = asString(item.call_id);
				if (!callId) throw invalid("function_call_output needs call_id", `${p}.call_id`);
				out.push({ role: "tool", tool_call_id: callId, content: outputText(item.output) });
				break;
			}
			case "reasoning":
				// reasoning from an earlier turn has no form Anthropic accepts back without its signature
				break;
			case "item_reference":
				throw invalid(
					"item_reference needs stored responses, which this gateway does not keep for this model: send the items themselves (with the AI SDK: providerOptions.openai.store = false)",
					`${p}.type`,
				);
			default:
				throw invalid(`input item type ${String(type)} is not supported for this model`, `${p}.type`);
		}
	});
	return out;
}

function chatTools(tools: unknown): JsonObject[] | undefined {
	if (tools === undefined || tools === null) return undefined;
	if (!Array.isArray(tools)) throw invalid("tools must be an array", "tools");
	return tools.map((t, i) => {
		if (!isObject(t) || t.type !== "function") {
			throw invalid("only function tools are supported for this model", `tools[${i}].type`);
		}
		return {
			type: "function",
			function: { name: t.name, description: t.description, parameters: t.parameters },
		};
	});
}

function chatToolChoice(choice: unknown): unknown {
	if (choice === undefined || choice === null || typeof choice === "string") return choice;
	if (isObject(choice) && choice.type === "function" && asString(choice.name)) {
		return { type: "function", function: { name: choice.name } };
	}
	throw invalid("tool_choice must be auto, none, required or a function", "tool_choice");
}

/**
 * A Responses API request body → the OpenAI chat request it means, which the chat translator
 * then carries to Anthropic. Nothing is stored: `previous_response_id` and `conversation`,
 * which would need earlier turns kept by the gateway, are refused naming the field; `store` is
 * accepted and answered with `store: false`.
 */
export function responsesToChatRequest(body: JsonObject): JsonObject {
	for (const field of ["previous_response_id", "conversation"]) {
		if (body[field] !== undefined && body[field] !== null) {
			throw invalid(
				`${field} needs stored responses, which this gateway does not keep for this model: send the whole conversation in input`,
				field,
			);
		}
	}
	const messages: JsonObject[] = [];
	const instructions = asString(body.instructions);
	if (instructions) messages.push({ role: "system", content: instructions });
	messages.push(...inputMessages(body.input));
	const chat: JsonObject = { model: body.model, messages };
	const format = isObject(body.text) ? body.text.format : undefined;
	// checked here so that an error names the Responses field
	if (answerTool(format, "text.format")) chat.response_format = format;
	const tools = chatTools(body.tools);
	if (tools && tools.length > 0) chat.tools = tools;
	if (body.tool_choice !== undefined) chat.tool_choice = chatToolChoice(body.tool_choice);
	if (body.parallel_tool_calls !== undefined) chat.parallel_tool_calls = body.parallel_tool_calls;
	if (body.max_output_tokens !== undefined) chat.max_completion_tokens = body.max_output_tokens;
	const effort = isObject(body.reasoning) ? asString(body.reasoning.effort) : undefined;
	if (effort) chat.reasoning_effort = effort;
	for (const field of ["temperature", "top_p", "user", "stream"]) {
		if (body[field] !== undefined && body[field] !== null) chat[field] = body[field];
	}
	return chat;
}
