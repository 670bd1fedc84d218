import { GatewayError } from "../../errors/gateway-error.ts";
import { asString, isObject, type JsonObject } from "../json-value.ts";

/**
 * The tool a structured answer is forced through. Claude models all support a forced tool,
 * whose input is checked against the schema as the model writes it; the tool's input is the
 * answer, handed back to the client as the message text (as OpenAI returns structured output).
 */
export const ANSWER_TOOL = "json_answer";

export interface AnswerTool {
	name: string;
	description: string;
	input_schema: JsonObject;
}

const invalid = (message: string, param: string) => new GatewayError("PLATFORM_INVALID_REQUEST", message, { param });

/**
 * OpenAI `response_format` → the forced answer tool, or undefined for plain text. `param`
 * names the field in the client's own request (chat: response_format, Responses: text.format).
 */
export function answerTool(format: unknown, param = "response_format"): AnswerTool | undefined {
	if (format === undefined || format === null) return undefined;
	if (!isObject(format)) throw invalid("must be an object", param);
	switch (format.type) {
		case "text":
			return undefined;
		case "json_object":
			return {
				name: ANSWER_TOOL,
				description: "Give the answer as a JSON object.",
				input_schema: { type: "object", additionalProperties: true },
			};
		case "json_schema": {
			// chat nests the schema under json_schema; the Responses API puts it on the format itself
			const spec = isObject(format.json_schema) ? format.json_schema : format;
			const schemaParam = spec === format ? `${param}.schema` : `${param}.json_schema.schema`;
			const schema = spec.schema ?? { type: "object" };
			if (!isObject(schema) || schema.type !== "object") {
				throw invalid("the schema must describe a JSON object for this model", schemaParam);
			}
			const name = asString(spec.name);
			const description = asString(spec.description);
			return {
				name: ANSWER_TOOL,
				description: [
					"Give the answer as JSON matching this schema",
					name ? ` (${name})` : "",
					description ? `: ${description}` : ".",
				].join(""),
				input_schema: schema,
			};
		}
		default:
			throw invalid(`response format type ${String(format.type)} is not supported for this model`, `${param}.type`);
	}
}
