import { describe, expect, test } from "bun:test";
import { openAIToAnthropicRequest } from "../../../src/protocols/anthropic/request-from-openai.ts";
import { anthropicToOpenAIResponse } from "../../../src/protocols/anthropic/response-to-openai.ts";
import { AnthropicToOpenAIStream } from "../../../src/protocols/anthropic/stream-to-openai.ts";
import { ANSWER_TOOL } from "../../../src/protocols/anthropic/structured-output.ts";
import { parseEvents } from "../replay.ts";

const schema = { type: "object", properties: { city: { type: "string" } }, required: ["city"] };
const messages = [{ role: "user", content: "where?" }];
const weather = { type: "function", function: { name: "get_weather", parameters: { type: "object" } } };

describe("chat response_format → Anthropic", () => {
	test("json_schema: a forced answer tool with the schema", () => {
		const req = openAIToAnthropicRequest(
			{ messages, response_format: { type: "json_schema", json_schema: { name: "place", schema, strict: true } } },
			"c",
		);
		expect(req.tools).toEqual([
			{ name: ANSWER_TOOL, description: expect.stringContaining("place"), input_schema: schema },
		]);
		expect(req.tool_choice).toEqual({ type: "tool", name: ANSWER_TOOL });
	});

	test("json_object: a forced tool taking any object; text: nothing", () => {
		const req = openAIToAnthropicRequest({ messages, response_format: { type: "json_object" } }, "c");
		expect(req.tools?.[0].input_schema).toEqual({ type: "object", additionalProperties: true });
		expect(openAIToAnthropicRequest({ messages, response_format: { type: "text" } }, "c").tools).toBeUndefined();
	});

	test("beside the client's tools the model must call one of them or the answer tool", () => {
		const req = openAIToAnthropicRequest({ messages, tools: [weather], response_format: { type: "json_object" } }, "c");
		expect(req.tools?.map((t) => t.name)).toEqual(["get_weather", ANSWER_TOOL]);
		expect(req.tool_choice).toEqual({ type: "any" });
		const none = openAIToAnthropicRequest(
			{ messages, tools: [weather], tool_choice: "none", response_format: { type: "json_object" } },
			"c",
		);
		expect(none.tools?.map((t) => t.name)).toEqual([ANSWER_TOOL]);
	});

	test("thinking is left off, as Anthropic refuses it with a forced tool", () => {
		const req = openAIToAnthropicRequest(
			{ messages, reasoning_effort: "high", response_format: { type: "json_object" } },
			"c",
		);
		expect(req.thinking).toBeUndefined();
	});

	test("a schema that is not an object is refused naming the field", () => {
		expect(() =>
			openAIToAnthropicRequest(
				{ messages, response_format: { type: "json_schema", json_schema: { name: "x", schema: { type: "string" } } } },
				"c",
			),
		).toThrow(
			expect.objectContaining({ code: "PLATFORM_INVALID_REQUEST", param: "response_format.json_schema.schema" }),
		);
	});
});

describe("Anthropic answer tool → OpenAI chat", () => {
	test("whole answer: content is the JSON text, finish_reason stop", () => {
		const c = anthropicToOpenAIResponse(
			{
				id: "m",
				content: [{ type: "tool_use", id: "t", name: ANSWER_TOOL, input: { city: "Paris" } }],
				stop_reason: "tool_use",
			},
			"claude",
			1,
			ANSWER_TOOL,
		);
		expect(c.choices[0].message.content).toBe('{"city":"Paris"}');
		expect(c.choices[0].message.tool_calls).toBeUndefined();
		expect(c.choices[0].finish_reason).toBe("stop");
	});

	test("stream: input_json_delta becomes content deltas, finish_reason stop", () => {
		const t = new AnthropicToOpenAIStream({ model: "m", includeUsage: false, created: 1, answerTool: ANSWER_TOOL });
		const ev = (type: string, data: object) => ({ event: type, data: JSON.stringify({ type, ...data }) });
		const out = parseEvents([
			...t.push(ev("message_start", { message: { id: "msg_1", usage: { input_tokens: 3, output_tokens: 1 } } })),
			...t.push(
				ev("content_block_start", {
					index: 0,
					content_block: { type: "tool_use", id: "t", name: ANSWER_TOOL, input: {} },
				}),
			),
			...t.push(ev("content_block_delta", { index: 0, delta: { type: "input_json_delta", partial_json: '{"city":' } })),
			...t.push(ev("content_block_delta", { index: 0, delta: { type: "input_json_delta", partial_json: '"Paris"}' } })),
			...t.push(ev("content_block_stop", { index: 0 })),
			...t.push(ev("message_delta", { delta: { stop_reason: "tool_use" }, usage: { output_tokens: 5 } })),
			...t.push(ev("message_stop", {})),
			...t.finish(),
		]);
		const choices = out
			.slice(0, -1)
			.map((e) => (e.data as { choices: { delta: object; finish_reason: string | null }[] }).choices[0]);
		expect(choices.map((c) => c.delta)).toEqual([
			{ role: "assistant", content: "" },
			{ content: '{"city":' },
			{ content: '"Paris"}' },
			{},
		]);
		expect(choices.at(-1)?.finish_reason).toBe("stop");
	});
});
