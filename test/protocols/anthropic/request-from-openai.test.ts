import { describe, expect, test } from "bun:test";
import { GatewayError } from "../../../src/errors/gateway-error.ts";
import { DEFAULT_MAX_TOKENS, openAIToAnthropicRequest } from "../../../src/protocols/anthropic/request-from-openai.ts";

const M = "claude-sonnet-4-5-20250929";

function rejects(body: Record<string, unknown>, param: string) {
	try {
		openAIToAnthropicRequest(body, M);
	} catch (e) {
		expect(e).toBeInstanceOf(GatewayError);
		expect((e as GatewayError).code).toBe("PLATFORM_INVALID_REQUEST");
		expect((e as GatewayError).param).toBe(param);
		return;
	}
	throw new Error("expected a GatewayError");
}

describe("openAIToAnthropicRequest", () => {
	test("plain chat: system hoisted, default max_tokens, sampling, stop, user, stream", () => {
		const out = openAIToAnthropicRequest(
			{
				model: "claude",
				messages: [
					{ role: "system", content: "Be brief." },
					{ role: "user", content: "Hi" },
				],
				temperature: 0.3,
				top_p: 0.9,
				stop: "END",
				user: "user-42",
				stream: true,
				frequency_penalty: 1,
				logit_bias: {},
			},
			M,
		);
		expect(out).toEqual({
			model: M,
			max_tokens: DEFAULT_MAX_TOKENS,
			messages: [{ role: "user", content: "Hi" }],
			system: "Be brief.",
			temperature: 0.3,
			top_p: 0.9,
			stop_sequences: ["END"],
			metadata: { user_id: "user-42" },
			stream: true,
		});
	});

	test("max_completion_tokens wins over max_tokens; temperature clamps to Anthropic's range", () => {
		const out = openAIToAnthropicRequest(
			{
				messages: [{ role: "user", content: "x" }],
				max_tokens: 10,
				max_completion_tokens: 20,
				temperature: 1.7,
			},
			M,
		);
		expect(out.max_tokens).toBe(20);
		expect(out.temperature).toBe(1);
		expect(openAIToAnthropicRequest({ messages: [], max_tokens: 10 }, M).max_tokens).toBe(10);
	});

	test("several system and developer messages become text blocks", () => {
		const out = openAIToAnthropicRequest(
			{
				messages: [
					{ role: "system", content: [{ type: "text", text: "A" }] },
					{ role: "developer", content: "B" },
					{ role: "user", content: "x" },
				],
			},
			M,
		);
		expect(out.system).toEqual([
			{ type: "text", text: "A" },
			{ type: "text", text: "B" },
		]);
	});

	test("images: data URL → base64 source, https → url source", () => {
		const out = openAIToAnthropicRequest(
			{
				messages: [
					{
						role: "user",
						content: [
							{ type: "text", text: "What is this?" },
							{
								type: "image_url",
								image_url: { url: "data:image/png;base64,iVBORw0KGgo=" },
							},
							{
								type: "image_url",
								image_url: {
									url: "https://example.com/cat.jpg",
									detail: "high",
								},
							},
						],
					},
				],
			},
			M,
		);
		expect(out.messages[0].content).toEqual([
			{ type: "text", text: "What is this?" },
			{
				type: "image",
				source: {
					type: "base64",
					media_type: "image/png",
					data: "iVBORw0KGgo=",
				},
			},
			{
				type: "image",
				source: { type: "url", url: "https://example.com/cat.jpg" },
			},
		]);
		rejects(
			{
				messages: [
					{
						role: "user",
						content: [{ type: "image_url", image_url: { url: "ftp://x/y.png" } }],
					},
				],
			},
			"messages[0].content[0].image_url.url",
		);
		rejects(
			{
				messages: [{ role: "user", content: [{ type: "input_audio", input_audio: {} }] }],
			},
			"messages[0].content[0].type",
		);
	});

	test("tool round trip: tool_calls → tool_use, consecutive tool results merged into one user turn", () => {
		const out = openAIToAnthropicRequest(
			{
				messages: [
					{ role: "user", content: "Weather in Paris and time?" },
					{
						role: "assistant",
						content: null,
						tool_calls: [
							{
								id: "call_1",
								type: "function",
								function: {
									name: "get_weather",
									arguments: '{"city":"Paris"}',
								},
							},
							{
								id: "call_2",
								type: "function",
								function: { name: "get_time", arguments: "" },
							},
						],
					},
					{ role: "tool", tool_call_id: "call_1", content: "18C" },
					{
						role: "tool",
						tool_call_id: "call_2",
						content: [{ type: "text", text: "14:00" }],
					},
					{ role: "user", content: "Thanks" },
				],
				tools: [
					{
						type: "function",
						function: {
							name: "get_weather",
							description: "Weather",
							parameters: {
								type: "object",
								properties: { city: { type: "string" } },
							},
						},
					},
					{ type: "function", function: { name: "get_time" } },
				],
				tool_choice: "required",
				parallel_tool_calls: false,
			},
			M,
		);
		expect(out.messages).toEqual([
			{ role: "user", content: "Weather in Paris and time?" },
			{
				role: "assistant",
				content: [
					{
						type: "tool_use",
						id: "call_1",
						name: "get_weather",
						input: { city: "Paris" },
					},
					{ type: "tool_use", id: "call_2", name: "get_time", input: {} },
				],
			},
			{
				role: "user",
				content: [
					{ type: "tool_result", tool_use_id: "call_1", content: "18C" },
					{ type: "tool_result", tool_use_id: "call_2", content: "14:00" },
					{ type: "text", text: "Thanks" },
				],
			},
		]);
		expect(out.tools).toEqual([
			{
				name: "get_weather",
				description: "Weather",
				input_schema: {
					type: "object",
					properties: { city: { type: "string" } },
				},
			},
			{ name: "get_time", input_schema: { type: "object", properties: {} } },
		]);
		expect(out.tool_choice).toEqual({
			type: "any",
			disable_parallel_tool_use: true,
		});
	});

	test("tool_choice variants", () => {
		const tools = [{ type: "function", function: { name: "f" } }];
		const choice = (tool_choice: unknown, extra = {}) =>
			openAIToAnthropicRequest({ messages: [], tools, tool_choice, ...extra }, M).tool_choice;
		expect(choice("auto")).toEqual({ type: "auto" });
		expect(choice("none")).toEqual({ type: "none" });
		expect(choice({ type: "function", function: { name: "f" } })).toEqual({
			type: "tool",
			name: "f",
		});
		expect(choice(undefined, { parallel_tool_calls: false })).toEqual({
			type: "auto",
			disable_parallel_tool_use: true,
		});
		expect(choice(undefined)).toBeUndefined();
		rejects({ messages: [], tools, tool_choice: "sometimes" }, "tool_choice");
		rejects({ messages: [], tools: [{ type: "custom", custom: { name: "x" } }] }, "tools[0].type");
	});

	test("invalid tool call arguments are rejected, not replaced with {}", () => {
		rejects(
			{
				messages: [
					{
						role: "assistant",
						tool_calls: [
							{
								id: "c",
								type: "function",
								function: { name: "f", arguments: "{not json" },
							},
						],
					},
				],
			},
			"messages[0].tool_calls[0].function.arguments",
		);
		rejects(
			{
				messages: [
					{
						role: "assistant",
						tool_calls: [
							{
								id: "c",
								type: "function",
								function: { name: "f", arguments: "[1]" },
							},
						],
					},
				],
			},
			"messages[0].tool_calls[0].function.arguments",
		);
	});

	test("consecutive same-role messages merge; empty assistant text is dropped", () => {
		const out = openAIToAnthropicRequest(
			{
				messages: [
					{ role: "user", content: "a" },
					{ role: "user", content: "b" },
					{ role: "assistant", content: "" },
					{ role: "assistant", content: "c" },
				],
			},
			M,
		);
		expect(out.messages).toEqual([
			{
				role: "user",
				content: [
					{ type: "text", text: "a" },
					{ type: "text", text: "b" },
				],
			},
			{ role: "assistant", content: "c" },
		]);
	});

	test("bad shapes name the param", () => {
		rejects({ messages: "hi" }, "messages");
		rejects({ messages: [{ role: "function", content: "x" }] }, "messages[0].role");
		rejects({ messages: [{ role: "tool", content: "x" }] }, "messages[0].tool_call_id");
		rejects({ messages: [], n: 2 }, "n");
		rejects({ messages: [], stop: [1] }, "stop");
	});

	test("reasoning_effort → thinking budget, sampling dropped, max_tokens grown only when defaulted", () => {
		const a = openAIToAnthropicRequest({ messages: [], reasoning_effort: "medium", temperature: 0.2 }, M);
		expect(a.thinking).toEqual({ type: "enabled", budget_tokens: 8192 });
		expect(a.max_tokens).toBe(DEFAULT_MAX_TOKENS + 8192);
		expect(a.temperature).toBeUndefined();
		const b = openAIToAnthropicRequest({ messages: [], reasoning_effort: "high", max_completion_tokens: 5000 }, M);
		expect(b).toMatchObject({
			max_tokens: 5000,
			thinking: { type: "enabled", budget_tokens: 4999 },
		});
		const c = openAIToAnthropicRequest({ messages: [], reasoning_effort: "low", max_tokens: 500 }, M);
		expect(c.thinking).toBeUndefined();
		expect(openAIToAnthropicRequest({ messages: [], reasoning_effort: "none" }, M).thinking).toBeUndefined();
	});
});
