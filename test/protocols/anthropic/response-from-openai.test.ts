import { describe, expect, test } from "bun:test";
import { GatewayError } from "../../../src/errors/gateway-error.ts";
import { openAIToAnthropicResponse } from "../../../src/protocols/anthropic/response-from-openai.ts";

const completion = (message: Record<string, unknown>, finish_reason: string) => ({
	id: "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
	object: "chat.completion",
	created: 1741569952,
	model: "gpt-4o-2024-08-06",
	choices: [
		{
			index: 0,
			message: { role: "assistant", refusal: null, ...message },
			logprobs: null,
			finish_reason,
		},
	],
	usage: {
		prompt_tokens: 1117,
		completion_tokens: 46,
		total_tokens: 1163,
		prompt_tokens_details: { cached_tokens: 1024 },
	},
});

describe("openAIToAnthropicResponse", () => {
	test("text and tool calls", () => {
		const out = openAIToAnthropicResponse(
			completion(
				{
					content: "Let me check.",
					tool_calls: [
						{
							id: "call_1",
							type: "function",
							function: { name: "get_weather", arguments: '{"city":"Paris"}' },
						},
						{
							id: "call_2",
							type: "function",
							function: { name: "now", arguments: "" },
						},
					],
				},
				"tool_calls",
			),
			"gpt-4o",
		);
		expect(out).toEqual({
			id: "msg_B9MBs8CjcvOU2jLn4n570S5qMJKcT",
			type: "message",
			role: "assistant",
			model: "gpt-4o",
			content: [
				{ type: "text", text: "Let me check." },
				{
					type: "tool_use",
					id: "call_1",
					name: "get_weather",
					input: { city: "Paris" },
				},
				{ type: "tool_use", id: "call_2", name: "now", input: {} },
			],
			stop_reason: "tool_use",
			stop_sequence: null,
			usage: {
				input_tokens: 93,
				cache_creation_input_tokens: 0,
				cache_read_input_tokens: 1024,
				output_tokens: 46,
			},
		});
	});

	test("stop reasons", () => {
		const sr = (f: string) => openAIToAnthropicResponse(completion({ content: "x" }, f), "m").stop_reason;
		expect(sr("stop")).toBe("end_turn");
		expect(sr("length")).toBe("max_tokens");
		expect(sr("tool_calls")).toBe("tool_use");
		expect(sr("content_filter")).toBe("refusal");
	});

	test("refusal text and empty content", () => {
		expect(openAIToAnthropicResponse(completion({ content: null, refusal: "No." }, "stop"), "m").content).toEqual([
			{ type: "text", text: "No." },
		]);
		expect(openAIToAnthropicResponse(completion({ content: "" }, "stop"), "m").content).toEqual([]);
	});

	test("malformed tool arguments from upstream are a bad upstream response", () => {
		const bad = completion(
			{
				content: null,
				tool_calls: [
					{
						id: "c",
						type: "function",
						function: { name: "f", arguments: "{oops" },
					},
				],
			},
			"tool_calls",
		);
		expect(() => openAIToAnthropicResponse(bad, "m")).toThrow(GatewayError);
		try {
			openAIToAnthropicResponse(bad, "m");
		} catch (e) {
			expect((e as GatewayError).code).toBe("UPSTREAM_BAD_RESPONSE");
		}
	});
});
