import { describe, expect, test } from "bun:test";
import { GatewayError } from "../../../src/errors/gateway-error.ts";
import { openAIToAnthropicRequest } from "../../../src/protocols/anthropic/request-from-openai.ts";
import { responsesToChatRequest } from "../../../src/protocols/anthropic/responses-request.ts";
import { anthropicToResponses } from "../../../src/protocols/anthropic/responses-response.ts";
import { AnthropicToResponsesStream } from "../../../src/protocols/anthropic/responses-stream.ts";
import { ANSWER_TOOL } from "../../../src/protocols/anthropic/structured-output.ts";
import { concat, fixtureBytes, fixtureJson, parseEvents, replay, SPLITS } from "../replay.ts";

const echo = { model: "claude-sonnet-4-5", request: { input: "hi" } };

describe("Anthropic stream → Responses events (golden)", () => {
	const fixtures = [
		{ name: "text", completed: true, prompt: 4225, completion: 15 },
		{ name: "tool-use", completed: true, prompt: 472, completion: 89 },
		{ name: "thinking", completed: true, prompt: 36, completion: 120 },
		{ name: "error-mid-stream", completed: false, prompt: 2060, completion: 1 },
	];
	for (const fx of fixtures) {
		describe(fx.name, () => {
			for (const { name, split } of SPLITS) {
				test(`split: ${name}`, async () => {
					const t = new AnthropicToResponsesStream(echo, 1700000000);
					const out = replay(split(await fixtureBytes(`anthropic/${fx.name}.sse`)), t);
					expect(parseEvents(out)).toEqual((await fixtureJson(`anthropic/${fx.name}.responses.json`)) as never);
					expect(t.completed).toBe(fx.completed);
					expect(t.usage).toMatchObject({ prompt_tokens: fx.prompt, completion_tokens: fx.completion });
				});
			}
		});
	}

	test("sequence numbers count up from 0 and the terminal event carries the usage", async () => {
		const t = new AnthropicToResponsesStream(echo, 1);
		const events = parseEvents(replay([await fixtureBytes("anthropic/tool-use.sse")], t));
		expect(events.map((e) => (e.data as { sequence_number: number }).sequence_number)).toEqual(events.map((_, i) => i));
		const last = events.at(-1)?.data as { response: { usage: unknown; status: string } };
		expect(last.response.status).toBe("completed");
		expect(last.response.usage).toEqual({
			input_tokens: 472,
			input_tokens_details: { cached_tokens: 0 },
			output_tokens: 89,
			output_tokens_details: { reasoning_tokens: 0 },
			total_tokens: 561,
		});
	});

	test("a forced answer tool streams as output_text, and max_tokens ends as response.incomplete", () => {
		const t = new AnthropicToResponsesStream({ ...echo, answerTool: ANSWER_TOOL }, 1);
		const ev = (type: string, data: object) => ({ event: type, data: JSON.stringify({ type, ...data }) });
		const out = parseEvents([
			...t.push(ev("message_start", { message: { id: "msg_1", usage: { input_tokens: 5, output_tokens: 1 } } })),
			...t.push(
				ev("content_block_start", {
					index: 0,
					content_block: { type: "tool_use", id: "t", name: ANSWER_TOOL, input: {} },
				}),
			),
			...t.push(ev("content_block_delta", { index: 0, delta: { type: "input_json_delta", partial_json: '{"a":' } })),
			...t.push(ev("content_block_delta", { index: 0, delta: { type: "input_json_delta", partial_json: "1}" } })),
			...t.push(ev("content_block_stop", { index: 0 })),
			...t.push(ev("message_delta", { delta: { stop_reason: "max_tokens" }, usage: { output_tokens: 4 } })),
			...t.push(ev("message_stop", {})),
		]);
		expect(
			out.filter((e) => e.event === "response.output_text.delta").map((e) => (e.data as { delta: string }).delta),
		).toEqual(['{"a":', "1}"]);
		expect(out.some((e) => e.event?.startsWith("response.function_call"))).toBe(false);
		const last = out.at(-1) as {
			event: string;
			data: { response: { output: unknown[]; incomplete_details: unknown } };
		};
		expect(last.event).toBe("response.incomplete");
		expect(last.data.response.incomplete_details).toEqual({ reason: "max_output_tokens" });
		expect(last.data.response.output).toEqual([
			{
				type: "message",
				id: "msg_1_0",
				status: "completed",
				role: "assistant",
				content: [{ type: "output_text", text: '{"a":1}', annotations: [], logprobs: [] }],
			},
		]);
	});

	test("an upstream error event becomes a Responses error event and the stream is not completed", async () => {
		const t = new AnthropicToResponsesStream(echo, 1);
		const text = new TextDecoder().decode(concat(replay([await fixtureBytes("anthropic/error-mid-stream.sse")], t)));
		expect(t.error).toEqual({ type: "overloaded_error", message: "Overloaded" });
		expect(text).not.toContain("response.completed");
	});
});

describe("Responses request → Anthropic request", () => {
	test("input items, instructions, tools, reasoning and limits", () => {
		const chat = responsesToChatRequest({
			model: "c",
			instructions: "be brief",
			input: [
				{ role: "user", content: [{ type: "input_text", text: "weather?" }] },
				{ type: "function_call", call_id: "call_1", name: "get_weather", arguments: '{"q":"Paris"}' },
				{ type: "function_call_output", call_id: "call_1", output: "sunny" },
				{ type: "message", role: "assistant", content: [{ type: "output_text", text: "It is sunny." }] },
				{ role: "user", content: "thanks" },
			],
			tools: [
				{ type: "function", name: "get_weather", description: "w", parameters: { type: "object" }, strict: true },
			],
			tool_choice: { type: "function", name: "get_weather" },
			max_output_tokens: 50000,
			reasoning: { effort: "low" },
			temperature: 0.5,
			stream: true,
			store: true,
		});
		expect(openAIToAnthropicRequest(chat, "claude-x")).toEqual({
			model: "claude-x",
			max_tokens: 50000,
			system: "be brief",
			messages: [
				{ role: "user", content: "weather?" },
				{
					role: "assistant",
					content: [{ type: "tool_use", id: "call_1", name: "get_weather", input: { q: "Paris" } }],
				},
				{ role: "user", content: [{ type: "tool_result", tool_use_id: "call_1", content: "sunny" }] },
				{ role: "assistant", content: "It is sunny." },
				{ role: "user", content: "thanks" },
			],
			tools: [{ name: "get_weather", description: "w", input_schema: { type: "object" } }],
			tool_choice: { type: "tool", name: "get_weather" },
			temperature: 0.5,
			stream: true,
		});
		const thinking = openAIToAnthropicRequest(
			responsesToChatRequest({ model: "c", input: "hi", reasoning: { effort: "low" } }),
			"c",
		);
		expect(thinking.thinking).toEqual({ type: "enabled", budget_tokens: 2048 });
	});

	test("text.format json_schema becomes a forced answer tool that keeps the schema", () => {
		const schema = { type: "object", properties: { name: { type: "string" } }, required: ["name"] };
		const req = openAIToAnthropicRequest(
			responsesToChatRequest({
				model: "c",
				input: "hi",
				text: { format: { type: "json_schema", name: "person", schema, strict: true } },
			}),
			"c",
		);
		expect(req.tools).toEqual([
			{ name: ANSWER_TOOL, description: expect.stringContaining("person"), input_schema: schema },
		]);
		expect(req.tool_choice).toEqual({ type: "tool", name: ANSWER_TOOL });
	});

	test.each([
		[{ previous_response_id: "resp_1" }, "previous_response_id"],
		[{ conversation: "conv_1" }, "conversation"],
		[{ input: [{ type: "item_reference", id: "msg_1" }] }, "input[0].type"],
		[{ tools: [{ type: "web_search" }] }, "tools[0].type"],
		[{ text: { format: { type: "json_schema", name: "x", schema: { type: "array" } } } }, "text.format.schema"],
	])("refuses %j naming %s", (extra, param) => {
		let err: unknown;
		try {
			responsesToChatRequest({ model: "c", input: "hi", ...extra });
		} catch (e) {
			err = e;
		}
		expect(err).toBeInstanceOf(GatewayError);
		expect((err as GatewayError).code).toBe("PLATFORM_INVALID_REQUEST");
		expect((err as GatewayError).param).toBe(param);
	});
});

describe("Anthropic message → Responses answer", () => {
	test("text and tool calls become output items; usage in Responses names", () => {
		const r = anthropicToResponses(
			{
				id: "msg_9",
				content: [
					{ type: "thinking", thinking: "hmm" },
					{ type: "text", text: "Checking." },
					{ type: "tool_use", id: "toolu_1", name: "get_weather", input: { q: "Paris" } },
				],
				stop_reason: "tool_use",
				usage: { input_tokens: 10, cache_read_input_tokens: 4, output_tokens: 7 },
			},
			echo,
			1,
		);
		expect(r).toMatchObject({
			id: "resp_9",
			object: "response",
			status: "completed",
			model: "claude-sonnet-4-5",
			store: false,
			output: [
				{ type: "message", id: "msg_9_0", role: "assistant", content: [{ type: "output_text", text: "Checking." }] },
				{
					type: "function_call",
					id: "fc_toolu_1",
					call_id: "toolu_1",
					name: "get_weather",
					arguments: '{"q":"Paris"}',
				},
			],
			usage: { input_tokens: 14, input_tokens_details: { cached_tokens: 4 }, output_tokens: 7, total_tokens: 21 },
		});
	});

	test("the answer tool's input is the message text", () => {
		const r = anthropicToResponses(
			{
				id: "msg_2",
				content: [{ type: "tool_use", id: "t", name: ANSWER_TOOL, input: { a: 1 } }],
				stop_reason: "tool_use",
			},
			{ ...echo, answerTool: ANSWER_TOOL },
			1,
		);
		expect(r.output).toEqual([
			{
				type: "message",
				id: "msg_2_0",
				status: "completed",
				role: "assistant",
				content: [{ type: "output_text", text: '{"a":1}', annotations: [], logprobs: [] }],
			},
		]);
	});
});
