import { describe, expect, test } from "bun:test";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { OpenAIToAnthropicStream } from "../../src/protocols/anthropic/stream-from-openai.ts";
import { AnthropicToOpenAIStream } from "../../src/protocols/anthropic/stream-to-openai.ts";
import { concat, fixtureBytes, replay, SPLITS } from "./replay.ts";

/** A fetch that answers every request with `body` as an SSE stream, sent in small pieces. */
function sseFetch(body: Uint8Array): typeof fetch {
	const pieces = SPLITS.find((s) => s.name === "random seed 42")?.split(body) ?? [body];
	const f = async () =>
		new Response(
			new ReadableStream<Uint8Array>({
				start(c) {
					for (const p of pieces) c.enqueue(p);
					c.close();
				},
			}),
			{
				status: 200,
				headers: {
					"content-type": "text/event-stream",
					"request-id": "req_test",
				},
			},
		);
	return f as unknown as typeof fetch;
}

const anthropicClient = async (openaiFixture: string) => {
	const translated = concat(
		replay([await fixtureBytes(openaiFixture)], new OpenAIToAnthropicStream({ model: "gpt-4o" })),
	);
	return new Anthropic({
		apiKey: "test",
		maxRetries: 0,
		fetch: sseFetch(translated),
	});
};

const openaiClient = async (anthropicFixture: string) => {
	const t = new AnthropicToOpenAIStream({
		model: "claude-sonnet-4-5",
		includeUsage: true,
	});
	const translated = concat(replay([await fixtureBytes(anthropicFixture)], t));
	return new OpenAI({
		apiKey: "test",
		maxRetries: 0,
		fetch: sseFetch(translated),
	});
};

const askAnthropic = {
	model: "gpt-4o",
	max_tokens: 100,
	messages: [{ role: "user" as const, content: "hi" }],
};
const askOpenAI = {
	model: "claude-sonnet-4-5",
	messages: [{ role: "user" as const, content: "hi" }],
	stream_options: { include_usage: true },
};

describe("@anthropic-ai/sdk MessageStream over OpenAIToAnthropicStream output", () => {
	test("text", async () => {
		const client = await anthropicClient("openai/text.sse");
		const stream = client.messages.stream(askAnthropic);
		let text = "";
		stream.on("text", (t) => {
			text += t;
		});
		const msg = await stream.finalMessage();
		expect(text).toBe("Hello! How can I help you today? ✨");
		expect(msg.content as unknown).toEqual([{ type: "text", text: "Hello! How can I help you today? ✨" }]);
		expect(msg.stop_reason).toBe("end_turn");
		expect(msg.usage).toMatchObject({
			input_tokens: 93,
			cache_read_input_tokens: 1024,
			output_tokens: 9,
		});
	});

	test("parallel tool calls", async () => {
		const client = await anthropicClient("openai/parallel-tools.sse");
		const msg = await client.messages.stream(askAnthropic).finalMessage();
		expect(msg.stop_reason).toBe("tool_use");
		expect(msg.content as unknown).toEqual([
			{
				type: "tool_use",
				id: "call_LdLb6zSzmNq5QbFv6hM2o8xA",
				name: "get_weather",
				input: { location: "Paris" },
			},
			{
				type: "tool_use",
				id: "call_9YkYbmQeRzXm1Tz2bkD7fC4s",
				name: "get_time",
				input: { tz: "Europe/Paris" },
			},
		]);
	});

	test("a broken upstream surfaces as an APIError", async () => {
		const bytes = await fixtureBytes("openai/tool-call.sse");
		const t = new OpenAIToAnthropicStream({ model: "gpt-4o" });
		const translated = concat(replay([bytes.subarray(0, 900)], t));
		const client = new Anthropic({
			apiKey: "test",
			maxRetries: 0,
			fetch: sseFetch(translated),
		});
		const err = await client.messages
			.stream(askAnthropic)
			.finalMessage()
			.catch((e: unknown) => e);
		expect(err).toBeInstanceOf(Anthropic.APIError);
		expect((err as InstanceType<typeof Anthropic.APIError>).type).toBe("api_error");
	});
});

describe("openai SDK over AnthropicToOpenAIStream output", () => {
	test("text with usage", async () => {
		const client = await openaiClient("anthropic/text.sse");
		const final = await client.chat.completions.stream(askOpenAI).finalChatCompletion();
		expect(final.choices[0].message.content).toBe("Hello, wörld! 👋 How can I help?");
		expect(final.choices[0].finish_reason).toBe("stop");
		expect(final.usage).toMatchObject({
			prompt_tokens: 4225,
			completion_tokens: 15,
			total_tokens: 4240,
			prompt_tokens_details: { cached_tokens: 3000 },
		});
	});

	test("tool call arguments are reassembled", async () => {
		const client = await openaiClient("anthropic/tool-use.sse");
		const final = await client.chat.completions.stream(askOpenAI).finalChatCompletion();
		const msg = final.choices[0].message;
		expect(final.choices[0].finish_reason).toBe("tool_calls");
		expect(msg.content).toBe("Okay, let's check the weather for San Francisco, CA:");
		expect(msg.tool_calls).toHaveLength(1);
		const call = msg.tool_calls?.[0];
		expect(call?.id).toBe("toolu_01T1x1fJ34qAmk2tNTrN7Up6");
		expect(call?.type === "function" ? JSON.parse(call.function.arguments) : null).toEqual({
			location: "San Francisco, CA",
			unit: "fahrenheit",
		});
	});

	test("raw chunk iteration sees one id, the usage chunk last", async () => {
		const client = await openaiClient("anthropic/thinking.sse");
		const chunks = [];
		for await (const c of await client.chat.completions.create({
			...askOpenAI,
			stream: true,
		}))
			chunks.push(c);
		expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
		expect(chunks.at(-1)?.choices).toEqual([]);
		expect(chunks.at(-1)?.usage?.completion_tokens).toBe(120);
	});

	test("an overloaded_error mid-stream throws APIError", async () => {
		const client = await openaiClient("anthropic/error-mid-stream.sse");
		const seen: string[] = [];
		const err = await (async () => {
			for await (const c of await client.chat.completions.create({
				...askOpenAI,
				stream: true,
			})) {
				seen.push(c.choices[0]?.delta.content ?? "");
			}
		})().catch((e: unknown) => e);
		expect(err).toBeInstanceOf(OpenAI.APIError);
		expect((err as InstanceType<typeof OpenAI.APIError>).message).toContain("Overloaded");
		expect(seen.join("")).toBe("Once upon a time");
	});
});
