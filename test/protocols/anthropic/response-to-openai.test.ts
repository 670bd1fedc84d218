import { describe, expect, test } from "bun:test";
import { anthropicToOpenAIResponse, usageFromAnthropic } from "../../../src/protocols/anthropic/response-to-openai.ts";

describe("anthropicToOpenAIResponse", () => {
	const message = {
		id: "msg_01Abc",
		type: "message",
		role: "assistant",
		model: "claude-sonnet-4-5-20250929",
		content: [
			{ type: "thinking", thinking: "Let me think.", signature: "sig" },
			{ type: "text", text: "Checking " },
			{ type: "text", text: "now." },
			{
				type: "tool_use",
				id: "toolu_1",
				name: "get_weather",
				input: { city: "Paris" },
			},
		],
		stop_reason: "tool_use",
		stop_sequence: null,
		usage: {
			input_tokens: 10,
			cache_creation_input_tokens: 100,
			cache_read_input_tokens: 1000,
			output_tokens: 50,
			output_tokens_details: { thinking_tokens: 20 },
		},
	};

	test("maps content, tool calls, finish reason and usage", () => {
		expect(anthropicToOpenAIResponse(message, "claude-sonnet", 1700000000)).toEqual({
			id: "chatcmpl-msg_01Abc",
			object: "chat.completion",
			created: 1700000000,
			model: "claude-sonnet",
			choices: [
				{
					index: 0,
					message: {
						role: "assistant",
						content: "Checking now.",
						refusal: null,
						reasoning_content: "Let me think.",
						tool_calls: [
							{
								id: "toolu_1",
								type: "function",
								function: {
									name: "get_weather",
									arguments: '{"city":"Paris"}',
								},
							},
						],
					},
					logprobs: null,
					finish_reason: "tool_calls",
				},
			],
			usage: {
				prompt_tokens: 1110,
				completion_tokens: 50,
				total_tokens: 1160,
				prompt_tokens_details: { cached_tokens: 1000 },
				completion_tokens_details: { reasoning_tokens: 20 },
			},
		});
	});

	test("finish reasons", () => {
		const fr = (stop_reason: string) =>
			anthropicToOpenAIResponse({ ...message, content: [], stop_reason }, "m").choices[0].finish_reason;
		expect(fr("end_turn")).toBe("stop");
		expect(fr("stop_sequence")).toBe("stop");
		expect(fr("pause_turn")).toBe("stop");
		expect(fr("max_tokens")).toBe("length");
		expect(fr("tool_use")).toBe("tool_calls");
		expect(fr("refusal")).toBe("content_filter");
	});

	test("no text gives content null and no tool_calls key", () => {
		const out = anthropicToOpenAIResponse({ ...message, content: [], stop_reason: "end_turn" }, "m");
		expect(out.choices[0].message).toEqual({
			role: "assistant",
			content: null,
			refusal: null,
		});
	});

	test("usageFromAnthropic tolerates missing and null fields", () => {
		expect(
			usageFromAnthropic({
				input_tokens: 5,
				output_tokens: 2,
				cache_read_input_tokens: null,
			}),
		).toEqual({
			prompt_tokens: 5,
			completion_tokens: 2,
			cached_tokens: 0,
			cache_write_tokens: 0,
			reasoning_tokens: 0,
			total_tokens: 7,
		});
		expect(usageFromAnthropic(undefined).total_tokens).toBe(0);
	});
});
