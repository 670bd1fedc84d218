import { describe, expect, test } from "bun:test";
import { GatewayError } from "../../../src/errors/gateway-error.ts";
import { anthropicToOpenAIRequest } from "../../../src/protocols/anthropic/request-to-openai.ts";

describe("anthropicToOpenAIRequest", () => {
	test("full conversation with tools", () => {
		const out = anthropicToOpenAIRequest(
			{
				model: "gpt-4o",
				max_tokens: 1024,
				system: [
					{ type: "text", text: "You are terse." },
					{
						type: "text",
						text: "Use tools.",
						cache_control: { type: "ephemeral" },
					},
				],
				messages: [
					{
						role: "user",
						content: [
							{ type: "text", text: "Look:" },
							{
								type: "image",
								source: {
									type: "base64",
									media_type: "image/png",
									data: "AAAA",
								},
							},
							{
								type: "image",
								source: { type: "url", url: "https://example.com/a.png" },
							},
						],
					},
					{
						role: "assistant",
						content: [
							{ type: "thinking", thinking: "hmm", signature: "s" },
							{ type: "text", text: "Checking." },
							{
								type: "tool_use",
								id: "toolu_1",
								name: "get_weather",
								input: { city: "Paris" },
							},
						],
					},
					{
						role: "user",
						content: [
							{
								type: "tool_result",
								tool_use_id: "toolu_1",
								content: [{ type: "text", text: "18C" }],
							},
							{ type: "text", text: "And tomorrow?" },
						],
					},
				],
				tools: [
					{
						name: "get_weather",
						description: "Weather",
						input_schema: { type: "object" },
					},
				],
				tool_choice: {
					type: "tool",
					name: "get_weather",
					disable_parallel_tool_use: true,
				},
				stop_sequences: ["###"],
				temperature: 0.5,
				top_p: 0.8,
				top_k: 40,
				metadata: { user_id: "u-1" },
				stream: true,
			},
			"gpt-4o-2024-08-06",
		);
		expect(out).toEqual({
			model: "gpt-4o-2024-08-06",
			messages: [
				{ role: "system", content: "You are terse.\nUse tools." },
				{
					role: "user",
					content: [
						{ type: "text", text: "Look:" },
						{
							type: "image_url",
							image_url: { url: "data:image/png;base64,AAAA" },
						},
						{
							type: "image_url",
							image_url: { url: "https://example.com/a.png" },
						},
					],
				},
				{
					role: "assistant",
					content: "Checking.",
					tool_calls: [
						{
							id: "toolu_1",
							type: "function",
							function: { name: "get_weather", arguments: '{"city":"Paris"}' },
						},
					],
				},
				{ role: "tool", tool_call_id: "toolu_1", content: "18C" },
				{ role: "user", content: "And tomorrow?" },
			],
			max_tokens: 1024,
			tools: [
				{
					type: "function",
					function: {
						name: "get_weather",
						description: "Weather",
						parameters: { type: "object" },
					},
				},
			],
			tool_choice: { type: "function", function: { name: "get_weather" } },
			parallel_tool_calls: false,
			stop: ["###"],
			temperature: 0.5,
			top_p: 0.8,
			user: "u-1",
			stream: true,
			stream_options: { include_usage: true },
		});
	});

	test("string content, tool_choice any/auto/none, no stream", () => {
		const tools = [{ name: "f", input_schema: { type: "object" } }];
		const req = (tool_choice: unknown) =>
			anthropicToOpenAIRequest(
				{
					max_tokens: 5,
					messages: [{ role: "user", content: "hi" }],
					tools,
					tool_choice,
				},
				"m",
			);
		expect(req({ type: "any" }).tool_choice).toBe("required");
		expect(req({ type: "auto" }).tool_choice).toBe("auto");
		expect(req({ type: "none" }).tool_choice).toBe("none");
		const plain = req(undefined);
		expect(plain.messages).toEqual([{ role: "user", content: "hi" }]);
		expect(plain.stream).toBeUndefined();
		expect(plain.stream_options).toBeUndefined();
	});

	test("assistant with only tool_use has content null; error tool_result without text", () => {
		const out = anthropicToOpenAIRequest(
			{
				max_tokens: 5,
				messages: [
					{
						role: "assistant",
						content: [{ type: "tool_use", id: "t", name: "f", input: {} }],
					},
					{
						role: "user",
						content: [{ type: "tool_result", tool_use_id: "t", is_error: true }],
					},
				],
			},
			"m",
		);
		expect(out.messages).toEqual([
			{
				role: "assistant",
				content: null,
				tool_calls: [
					{
						id: "t",
						type: "function",
						function: { name: "f", arguments: "{}" },
					},
				],
			},
			{ role: "tool", tool_call_id: "t", content: "error" },
		]);
	});

	test("server tools and unknown blocks are rejected with the param", () => {
		const param = (body: Record<string, unknown>) => {
			try {
				anthropicToOpenAIRequest({ max_tokens: 5, ...body }, "m");
			} catch (e) {
				expect(e).toBeInstanceOf(GatewayError);
				return (e as GatewayError).param;
			}
			return "no error";
		};
		expect(
			param({
				messages: [],
				tools: [{ type: "web_search_20250305", name: "web_search" }],
			}),
		).toBe("tools[0]");
		expect(
			param({
				messages: [{ role: "user", content: [{ type: "search_result" }] }],
			}),
		).toBe("messages[0].content[0].type");
		expect(param({ messages: null })).toBe("messages");
	});
});
