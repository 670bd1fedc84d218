import { describe, expect, test } from "bun:test";
import { OpenAIToAnthropicStream } from "../../src/protocols/anthropic/stream-from-openai.ts";
import { AnthropicToOpenAIStream } from "../../src/protocols/anthropic/stream-to-openai.ts";
import { concat, fixtureBytes, fixtureJson, parseEvents, replay, SPLITS } from "./replay.ts";

const anthropicFixtures = [
	{
		name: "text",
		usage: {
			prompt_tokens: 4225,
			completion_tokens: 15,
			cached_tokens: 3000,
			cache_write_tokens: 1200,
		},
		completed: true,
	},
	{
		name: "tool-use",
		usage: {
			prompt_tokens: 472,
			completion_tokens: 89,
			cached_tokens: 0,
			cache_write_tokens: 0,
		},
		completed: true,
	},
	{
		name: "thinking",
		usage: {
			prompt_tokens: 36,
			completion_tokens: 120,
			cached_tokens: 0,
			cache_write_tokens: 0,
		},
		completed: true,
	},
	{
		// usage seen so far is kept for billing a broken stream (output is message_start's provisional count)
		name: "error-mid-stream",
		usage: {
			prompt_tokens: 2060,
			completion_tokens: 1,
			cached_tokens: 2048,
			cache_write_tokens: 0,
		},
		completed: false,
	},
];

describe("Anthropic stream → OpenAI chunks (golden)", () => {
	for (const fx of anthropicFixtures) {
		describe(fx.name, () => {
			for (const { name, split } of SPLITS) {
				test(`split: ${name}`, async () => {
					const bytes = await fixtureBytes(`anthropic/${fx.name}.sse`);
					const t = new AnthropicToOpenAIStream({
						model: "claude-sonnet-4-5",
						includeUsage: true,
						created: 1700000000,
					});
					const out = replay(split(bytes), t);
					expect(parseEvents(out)).toEqual((await fixtureJson(`anthropic/${fx.name}.openai.json`)) as never);
					expect(t.completed).toBe(fx.completed);
					expect(t.usage).toMatchObject(fx.usage);
					expect(t.usage.total_tokens).toBe(fx.usage.prompt_tokens + fx.usage.completion_tokens);
				});
			}
		});
	}

	test("error event marks the stream failed and sends no [DONE]", async () => {
		const t = new AnthropicToOpenAIStream({ model: "m", includeUsage: false });
		const out = new TextDecoder().decode(concat(replay([await fixtureBytes("anthropic/error-mid-stream.sse")], t)));
		expect(t.error).toEqual({
			type: "overloaded_error",
			message: "Overloaded",
		});
		expect(out).not.toContain("[DONE]");
		expect(out).not.toContain('"usage"');
	});

	test("without include_usage chunks carry no usage key and no usage chunk is sent", async () => {
		const t = new AnthropicToOpenAIStream({
			model: "m",
			includeUsage: false,
			created: 1,
		});
		const events = parseEvents(replay([await fixtureBytes("anthropic/text.sse")], t));
		expect(events.at(-1)).toEqual({ data: "[DONE]" });
		for (const ev of events.slice(0, -1)) {
			expect(ev.data).not.toHaveProperty("usage");
			expect((ev.data as { choices: unknown[] }).choices).toHaveLength(1);
		}
	});

	test("a stream cut before message_stop finishes with nothing", async () => {
		const bytes = await fixtureBytes("anthropic/text.sse");
		const cut = new TextDecoder().decode(bytes).indexOf("event: message_delta");
		const t = new AnthropicToOpenAIStream({ model: "m", includeUsage: true });
		const out = new TextDecoder().decode(concat(replay([bytes.subarray(0, cut)], t)));
		expect(t.completed).toBe(false);
		expect(t.error).toBeNull();
		expect(out).not.toContain("[DONE]");
		expect(t.usage.prompt_tokens).toBe(4225);
	});

	test("tool_use input given whole in content_block_start is sent as arguments", () => {
		const t = new AnthropicToOpenAIStream({
			model: "m",
			includeUsage: false,
			created: 1,
		});
		const evs = [
			{
				event: "message_start",
				data: '{"type":"message_start","message":{"id":"msg_1","usage":{"input_tokens":3,"output_tokens":1}}}',
			},
			{
				event: "content_block_start",
				data: '{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"t1","name":"f","input":{"a":1}}}',
			},
			{
				event: "content_block_stop",
				data: '{"type":"content_block_stop","index":0}',
			},
			{ event: "future_event", data: '{"type":"future_event"}' },
		];
		const events = parseEvents(evs.flatMap((e) => t.push(e)));
		expect(events.map((e) => (e.data as { choices: { delta: unknown }[] }).choices[0].delta)).toEqual([
			{ role: "assistant", content: "" },
			{
				tool_calls: [
					{
						index: 0,
						id: "t1",
						type: "function",
						function: { name: "f", arguments: "" },
					},
				],
			},
			{ tool_calls: [{ index: 0, function: { arguments: '{"a":1}' } }] },
		]);
	});
});

const openaiFixtures = [
	{
		name: "text",
		usage: { prompt_tokens: 1117, completion_tokens: 9, cached_tokens: 1024 },
	},
	{
		name: "tool-call",
		usage: { prompt_tokens: 82, completion_tokens: 24, cached_tokens: 0 },
	},
	{
		name: "parallel-tools",
		usage: { prompt_tokens: 140, completion_tokens: 58, cached_tokens: 128 },
	},
];

describe("OpenAI stream → Anthropic events (golden)", () => {
	for (const fx of openaiFixtures) {
		describe(fx.name, () => {
			for (const { name, split } of SPLITS) {
				test(`split: ${name}`, async () => {
					const bytes = await fixtureBytes(`openai/${fx.name}.sse`);
					const t = new OpenAIToAnthropicStream({ model: "gpt-4o" });
					const out = replay(split(bytes), t);
					expect(parseEvents(out)).toEqual((await fixtureJson(`openai/${fx.name}.anthropic.json`)) as never);
					expect(t.completed).toBe(true);
					expect(t.usage).toMatchObject(fx.usage);
				});
			}
		});
	}

	test("a stream that breaks before finish_reason ends with an api_error event", async () => {
		const bytes = await fixtureBytes("openai/tool-call.sse");
		const cut = new TextDecoder().decode(bytes).indexOf('"finish_reason":"tool_calls"');
		const t = new OpenAIToAnthropicStream({ model: "m" });
		const events = parseEvents(replay([bytes.subarray(0, cut - 300)], t));
		expect(t.completed).toBe(false);
		expect(events.at(-1)).toEqual({
			event: "error",
			data: {
				type: "error",
				error: { type: "api_error", message: expect.any(String) },
			},
		});
		expect(events.some((e) => e.event === "message_stop")).toBe(false);
	});

	test("finish_reason without [DONE] still closes the message", async () => {
		const text = new TextDecoder().decode(await fixtureBytes("openai/text.sse"));
		const t = new OpenAIToAnthropicStream({ model: "m" });
		const events = parseEvents(replay([new TextEncoder().encode(text.replace("data: [DONE]\n\n", ""))], t));
		expect(t.completed).toBe(true);
		expect(events.map((e) => e.event).slice(-2)).toEqual(["message_delta", "message_stop"]);
		expect(t.usage.prompt_tokens).toBe(1117);
	});

	test("an in-band OpenAI error becomes an Anthropic error event", () => {
		const t = new OpenAIToAnthropicStream({ model: "m" });
		const out = parseEvents([
			...t.push({
				data: '{"id":"c1","choices":[{"index":0,"delta":{"content":"hi"}}]}',
			}),
			...t.push({
				data: '{"error":{"message":"Rate limit reached","type":"rate_limit_exceeded","code":null}}',
			}),
			...t.finish(),
		]);
		expect(out.map((e) => e.event)).toEqual(["message_start", "content_block_start", "content_block_delta", "error"]);
		expect(out.at(-1)?.data).toEqual({
			type: "error",
			error: { type: "rate_limit_error", message: "Rate limit reached" },
		});
	});

	test("whole tool calls in one chunk after an Azure-style empty prelude", () => {
		const t = new OpenAIToAnthropicStream({ model: "m" });
		const out = parseEvents([
			...t.push({ data: '{"id":"","choices":[],"prompt_filter_results":[]}' }),
			...t.push({
				data: JSON.stringify({
					id: "c9",
					choices: [
						{
							index: 0,
							delta: {
								role: "assistant",
								tool_calls: [
									{
										index: 0,
										id: "a",
										type: "function",
										function: { name: "f", arguments: '{"x":1}' },
									},
									{
										index: 1,
										id: "b",
										type: "function",
										function: { name: "g", arguments: "{}" },
									},
								],
							},
							finish_reason: "tool_calls",
						},
					],
				}),
			}),
			...t.finish(),
		]);
		const start = out[0].data as { message: { id: string } };
		expect(start.message.id).toMatch(/^msg_[0-9a-f]{32}$/);
		expect(out.slice(1).map((e) => e.data)).toEqual([
			{
				type: "content_block_start",
				index: 0,
				content_block: { type: "tool_use", id: "a", name: "f", input: {} },
			},
			{
				type: "content_block_delta",
				index: 0,
				delta: { type: "input_json_delta", partial_json: '{"x":1}' },
			},
			{ type: "content_block_stop", index: 0 },
			{
				type: "content_block_start",
				index: 1,
				content_block: { type: "tool_use", id: "b", name: "g", input: {} },
			},
			{
				type: "content_block_delta",
				index: 1,
				delta: { type: "input_json_delta", partial_json: "{}" },
			},
			{ type: "content_block_stop", index: 1 },
			{
				type: "message_delta",
				delta: { stop_reason: "tool_use", stop_sequence: null },
				usage: {
					input_tokens: 0,
					cache_creation_input_tokens: 0,
					cache_read_input_tokens: 0,
					output_tokens: 0,
				},
			},
			{ type: "message_stop" },
		]);
		expect(t.completed).toBe(true);
	});

	test("reasoning_content becomes a thinking block closed before the text block", () => {
		const t = new OpenAIToAnthropicStream({ model: "m" });
		const chunk = (delta: object, finish: string | null = null) => ({
			data: JSON.stringify({
				id: "c1",
				choices: [{ index: 0, delta, finish_reason: finish }],
			}),
		});
		const out = parseEvents([
			...t.push(chunk({ role: "assistant", reasoning_content: "hmm" })),
			...t.push(chunk({ content: "ok" })),
			...t.push(chunk({}, "stop")),
			...t.push({ data: "[DONE]" }),
		]);
		expect(out.map((e) => [e.event, (e.data as { index?: number }).index])).toEqual([
			["message_start", undefined],
			["content_block_start", 0],
			["content_block_delta", 0],
			["content_block_stop", 0],
			["content_block_start", 1],
			["content_block_delta", 1],
			["content_block_stop", 1],
			["message_delta", undefined],
			["message_stop", undefined],
		]);
	});
});
