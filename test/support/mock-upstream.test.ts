import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { freePort } from "./free-port.ts";
import { type MockUpstream, startMockUpstream } from "./mock-upstream.ts";
import { waitFor } from "./wait-for.ts";

const mock: MockUpstream = await startMockUpstream();
afterAll(() => mock.stop());
beforeEach(() => mock.reset());

const openai = (apiKey = "sk-plain") => new OpenAI({ apiKey, baseURL: `${mock.url}/v1`, maxRetries: 0 });
const anthropic = (apiKey = "sk-ant-plain") => new Anthropic({ apiKey, baseURL: mock.url, maxRetries: 0 });
const user = (content: string) => ({ role: "user" as const, content });
const weatherTool = {
	type: "function" as const,
	function: {
		name: "lookup",
		description: "search",
		parameters: { type: "object", properties: { q: { type: "string" } } },
	},
};

describe("OpenAI chat", () => {
	test("plain answer echoes the last user message with deterministic usage", async () => {
		const res = await openai().chat.completions.create({
			model: "gpt-4o-mini",
			messages: [{ role: "system", content: "be brief" }, user("hello there world")],
		});
		expect(res.choices[0].message.content).toStartWith("echo: hello there world");
		expect(res.choices[0].finish_reason).toBe("stop");
		// 2 + 3 words + 3 overhead; the default answer has 12 words.
		expect(res.usage).toMatchObject({
			prompt_tokens: 8,
			completion_tokens: 12,
			total_tokens: 20,
		});
		expect(mock.requests[0]).toMatchObject({
			path: "/v1/chat/completions",
			apiKey: "sk-plain",
		});
		expect(mock.requests[0].headers.authorization).toBe("Bearer sk-plain");
		expect(mock.countByKey("sk-plain")).toBe(1);
	});

	test("max_tokens sets the answer length and truncation gives finish_reason length", async () => {
		const res = await openai().chat.completions.create({
			model: "m",
			messages: [user("a b c d e")],
			max_tokens: 3,
		});
		expect(res.choices[0].message.content).toBe("echo: a b");
		expect(res.choices[0].finish_reason).toBe("length");
		expect(res.usage?.completion_tokens).toBe(3);
	});

	test("stream with include_usage: shared id, role first, usage:null, usage chunk before [DONE]", async () => {
		const stream = await openai().chat.completions.create({
			model: "gpt-4o-mini",
			messages: [user("stream me")],
			max_tokens: 20,
			stream: true,
			stream_options: { include_usage: true },
		});
		const chunks = [];
		for await (const c of stream) chunks.push(c);
		expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
		expect(new Set(chunks.map((c) => c.created)).size).toBe(1);
		expect(chunks[0].choices[0].delta.role).toBe("assistant");
		const text = chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");
		expect(text.split(" ")).toHaveLength(20);
		expect(text).toStartWith("echo: stream me");
		const last = chunks.at(-1);
		expect(last?.choices).toEqual([]);
		expect(last?.usage).toMatchObject({
			prompt_tokens: 5,
			completion_tokens: 20,
			total_tokens: 25,
		});
		for (const c of chunks.slice(0, -1)) expect(c.usage).toBeNull();
		expect(chunks.at(-2)?.choices[0].finish_reason).toBe("stop");
		expect(chunks.length).toBe(1 + 20 + 1 + 1);
		expect(mock.completedStreams).toBe(1);
	});

	test("raw stream ends with data: [DONE] and has no usage key without include_usage", async () => {
		const res = await fetch(`${mock.url}/v1/chat/completions`, {
			method: "POST",
			headers: {
				authorization: "Bearer k",
				"content-type": "application/json",
			},
			body: JSON.stringify({ model: "m", messages: [user("x")], stream: true }),
		});
		expect(res.headers.get("content-type")).toStartWith("text/event-stream");
		const text = await res.text();
		expect(text.endsWith("data: [DONE]\n\n")).toBe(true);
		expect(text).not.toContain('"usage"');
	});

	test("tools: a user turn gets a tool call, a tool turn gets the result back", async () => {
		const client = openai();
		const first = await client.chat.completions.create({
			model: "m",
			messages: [user("weather in Paris")],
			tools: [weatherTool],
		});
		const call = first.choices[0].message.tool_calls?.[0];
		expect(first.choices[0].finish_reason).toBe("tool_calls");
		expect(call?.type).toBe("function");
		if (call?.type !== "function") throw new Error("expected a function call");
		expect(call.function.name).toBe("lookup");
		expect(JSON.parse(call.function.arguments)).toEqual({
			q: "weather in Paris",
		});

		const second = await client.chat.completions.create({
			model: "m",
			tools: [weatherTool],
			messages: [
				user("weather in Paris"),
				first.choices[0].message,
				{ role: "tool", tool_call_id: call.id, content: "sunny 21C" },
			],
		});
		expect(second.choices[0].message.content).toContain("sunny 21C");
	});

	test("streamed tool call: index, id, type, name, then argument pieces", async () => {
		const stream = await openai().chat.completions.create({
			model: "m",
			messages: [user("weather in Rome")],
			tools: [weatherTool],
			stream: true,
		});
		const deltas = [];
		let finish: string | null = null;
		for await (const c of stream) {
			for (const t of c.choices[0]?.delta.tool_calls ?? []) deltas.push(t);
			finish = c.choices[0]?.finish_reason ?? finish;
		}
		expect(deltas[0]).toMatchObject({
			index: 0,
			type: "function",
			function: { name: "lookup", arguments: "" },
		});
		expect(deltas[0].id).toStartWith("call_");
		expect(deltas.length).toBeGreaterThan(2);
		expect(JSON.parse(deltas.map((d) => d.function?.arguments ?? "").join(""))).toEqual({ q: "weather in Rome" });
		expect(finish).toBe("tool_calls");
	});
});

describe("other OpenAI endpoints", () => {
	test("completions, plain and streamed", async () => {
		const client = openai();
		const res = await client.completions.create({
			model: "m",
			prompt: "say hi",
			max_tokens: 5,
		});
		expect(res.object).toBe("text_completion");
		expect(res.choices[0].text).toBe("echo: say hi alpha bravo");
		expect(res.usage).toMatchObject({ prompt_tokens: 5, completion_tokens: 5 });
		const stream = await client.completions.create({
			model: "m",
			prompt: "say hi",
			max_tokens: 5,
			stream: true,
			stream_options: { include_usage: true },
		});
		let text = "";
		let usage = null;
		for await (const c of stream) {
			text += c.choices[0]?.text ?? "";
			usage = c.usage ?? usage;
		}
		expect(text).toBe("echo: say hi alpha bravo");
		expect(usage).toMatchObject({ completion_tokens: 5 });
	});

	test("embeddings are deterministic, sized, and decode from the SDK's base64 default", async () => {
		const client = openai();
		const a = await client.embeddings.create({
			model: "text-embedding-3-small",
			input: ["one two", "three"],
		});
		const b = await client.embeddings.create({
			model: "text-embedding-3-small",
			input: "one two",
			encoding_format: "float",
			dimensions: 16,
		});
		expect(a.data).toHaveLength(2);
		expect(a.data[0].embedding).toHaveLength(8);
		expect(a.usage).toEqual({ prompt_tokens: 6, total_tokens: 6 });
		expect(b.data[0].embedding).toHaveLength(16);
		const again = await client.embeddings.create({
			model: "e",
			input: ["one two"],
			encoding_format: "float",
		});
		expect(again.data[0].embedding).toEqual(a.data[0].embedding);
	});

	test("responses, plain and streamed", async () => {
		const client = openai();
		const res = await client.responses.create({
			model: "gpt-4o-mini",
			input: "what is up",
			instructions: "be kind",
		});
		expect(res.output_text).toStartWith("echo: what is up");
		expect(res.usage).toMatchObject({
			input_tokens: 8,
			output_tokens: 12,
			total_tokens: 20,
		});
		const stream = await client.responses.create({
			model: "gpt-4o-mini",
			input: "what is up",
			stream: true,
		});
		const types: string[] = [];
		let text = "";
		let usage = null;
		for await (const e of stream) {
			types.push(e.type);
			if (e.type === "response.output_text.delta") text += e.delta;
			if (e.type === "response.completed") usage = e.response.usage;
		}
		expect(types[0]).toBe("response.created");
		expect(types.at(-1)).toBe("response.completed");
		expect(text).toBe(res.output_text);
		expect(usage).toMatchObject({ output_tokens: 12 });
	});

	test("models", async () => {
		const list = await openai().models.list();
		expect(list.data.map((m) => m.id)).toContain("gpt-4o-mini");
	});
});

describe("Anthropic messages", () => {
	test("plain message with usage; cache_control reports a cache read", async () => {
		const client = anthropic();
		const res = await client.messages.create({
			model: "claude",
			max_tokens: 64,
			messages: [user("hi there")],
		});
		expect(res.content[0]).toMatchObject({ type: "text" });
		expect(res.content[0].type === "text" && res.content[0].text).toStartWith("echo: hi there");
		expect(res.stop_reason).toBe("end_turn");
		expect(res.usage).toMatchObject({
			input_tokens: 5,
			output_tokens: 64,
			cache_read_input_tokens: 0,
		});
		expect(mock.requests[0].headers["anthropic-version"]).toBeTruthy();

		const cached = await client.messages.create({
			model: "claude",
			max_tokens: 8,
			system: [
				{
					type: "text",
					text: "long system prompt here",
					cache_control: { type: "ephemeral" },
				},
			],
			messages: [user("hi there")],
		});
		// 4 + 2 words + 3 = 9 in total: 4 read from cache, 5 fresh.
		expect(cached.usage).toMatchObject({
			input_tokens: 5,
			cache_read_input_tokens: 4,
		});
	});

	test("stream in the real event order, accumulated by the SDK", async () => {
		const events: string[] = [];
		const stream = anthropic().messages.stream({
			model: "claude",
			max_tokens: 10,
			messages: [user("ping me")],
		});
		stream.on("streamEvent", (e) => events.push(e.type));
		const msg = await stream.finalMessage();
		expect(msg.content[0].type === "text" && msg.content[0].text.split(" ")).toHaveLength(10);
		expect(msg.usage.output_tokens).toBe(10);
		expect(msg.usage.input_tokens).toBe(5);
		// The SDK swallows ping; the raw stream below shows it.
		expect(events.slice(0, 2)).toEqual(["message_start", "content_block_start"]);
		expect(events.slice(-3)).toEqual(["content_block_stop", "message_delta", "message_stop"]);

		const raw = await fetch(`${mock.url}/v1/messages`, {
			method: "POST",
			headers: {
				"content-type": "application/json",
				"x-api-key": "k",
				"anthropic-version": "2023-06-01",
			},
			body: JSON.stringify({
				model: "claude",
				max_tokens: 3,
				stream: true,
				messages: [user("x")],
			}),
		}).then((r) => r.text());
		const names = [...raw.matchAll(/^event: (\S+)$/gm)].map((m) => m[1]);
		expect(names).toEqual([
			"message_start",
			"ping",
			"content_block_start",
			"content_block_delta",
			"content_block_delta",
			"content_block_delta",
			"content_block_stop",
			"message_delta",
			"message_stop",
		]);
	});

	test("tools: tool_use streamed as input_json_delta pieces, then tool_result answered", async () => {
		const client = anthropic();
		const tools = [
			{
				name: "lookup",
				input_schema: { type: "object" as const, properties: {} },
			},
		];
		const msg = await client.messages
			.stream({
				model: "claude",
				max_tokens: 100,
				tools,
				messages: [user("find cats")],
			})
			.finalMessage();
		const block = msg.content[0];
		expect(msg.stop_reason).toBe("tool_use");
		expect(block).toMatchObject({
			type: "tool_use",
			name: "lookup",
			input: { q: "find cats" },
		});
		if (block.type !== "tool_use") throw new Error("expected tool_use");
		const next = await client.messages.create({
			model: "claude",
			max_tokens: 100,
			tools,
			messages: [
				user("find cats"),
				{ role: "assistant", content: msg.content },
				{
					role: "user",
					content: [
						{
							type: "tool_result",
							tool_use_id: block.id,
							content: "three cats",
						},
					],
				},
			],
		});
		expect(next.content[0].type === "text" && next.content[0].text).toContain("three cats");
	});

	test("count_tokens and the auth headers check", async () => {
		const n = await anthropic().messages.countTokens({
			model: "claude",
			messages: [user("a b c")],
		});
		expect(n.input_tokens).toBe(6);
		const res = await fetch(`${mock.url}/v1/messages`, {
			method: "POST",
			headers: { "content-type": "application/json", "x-api-key": "k" },
			body: JSON.stringify({
				model: "claude",
				max_tokens: 5,
				messages: [user("x")],
			}),
		});
		expect(res.status).toBe(401);
		expect(await res.json()).toMatchObject({
			type: "error",
			error: { type: "authentication_error" },
		});
	});
});

describe("behaviour keys", () => {
	const chat = (key: string) =>
		openai(key).chat.completions.create({
			model: "m",
			messages: [user("x")],
			max_tokens: 8,
		});
	const chatStream = (key: string) =>
		openai(key).chat.completions.create({
			model: "m",
			messages: [user("x")],
			stream: true,
			max_tokens: 8,
		});

	test.each([
		["acct-fail503", 503, OpenAI.InternalServerError],
		["acct-fail500", 500, OpenAI.InternalServerError],
		["acct-fail401", 401, OpenAI.AuthenticationError],
		["acct-fail429", 429, OpenAI.RateLimitError],
	])("%s answers %d", async (key, status, cls) => {
		const err = await chat(key).catch((e) => e);
		expect(err).toBeInstanceOf(cls);
		expect(err.status).toBe(status);
		expect(err.error).toMatchObject({
			type: expect.any(String),
			code: expect.any(String),
		});
		if (status === 429) {
			expect(err.headers.get("retry-after")).toBe("2");
			expect(err.headers.get("retry-after-ms")).toBe("2000");
		}
	});

	test("fail429 on /v1/messages is Anthropic-shaped", async () => {
		const err = await anthropic("k-fail429")
			.messages.create({ model: "c", max_tokens: 5, messages: [user("x")] })
			.catch((e) => e);
		expect(err).toBeInstanceOf(Anthropic.RateLimitError);
		expect(err.error).toMatchObject({
			type: "error",
			error: { type: "rate_limit_error" },
		});
	});

	test("slow<ms> delays the headers", async () => {
		const t0 = performance.now();
		await chat("k-slow150");
		expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
	});

	test("break<n> sends n content chunks then resets the connection", async () => {
		const stream = await chatStream("k-break3");
		const got: string[] = [];
		const err = await (async () => {
			for await (const c of stream) got.push(c.choices[0]?.delta.content ?? "");
		})().catch((e) => e);
		expect(err).toBeInstanceOf(Error);
		expect(got.join("")).toBe("echo: x alpha");
	});

	test("stall sends one chunk, then waits until the client cancels", async () => {
		const ac = new AbortController();
		const res = await fetch(`${mock.url}/v1/chat/completions`, {
			method: "POST",
			signal: ac.signal,
			headers: {
				authorization: "Bearer k-stall",
				"content-type": "application/json",
			},
			body: JSON.stringify({ model: "m", messages: [user("x")], stream: true }),
		});
		const reader = res.body?.getReader();
		const first = await reader?.read();
		expect(new TextDecoder().decode(first?.value)).toContain('"role":"assistant"');
		expect(mock.activeStreams).toBe(1);
		ac.abort();
		await mock.waitFor(() => mock.cancelledStreams === 1 && mock.activeStreams === 0, 2_000, "cancelled stall");
	});

	test("drip<ms> paces the chunks", async () => {
		const t0 = performance.now();
		const stream = await chatStream("k-drip20");
		let n = 0;
		for await (const _ of stream) n++;
		// 1 role + 8 words + 1 finish = 10 frames, 9 gaps of 20 ms.
		expect(n).toBe(10);
		expect(performance.now() - t0).toBeGreaterThanOrEqual(170);
	});

	test("midError: in-band OpenAI error on chat, overloaded_error on messages", async () => {
		const stream = await chatStream("k-midError");
		const got: string[] = [];
		const err = await (async () => {
			for await (const c of stream) got.push(c.choices[0]?.delta.content ?? "");
		})().catch((e) => e);
		expect(err).toBeInstanceOf(OpenAI.APIError);
		expect(got.join("")).toBe("echo: x");

		const aerr = await anthropic("k-midError")
			.messages.stream({ model: "c", max_tokens: 8, messages: [user("x")] })
			.finalMessage()
			.catch((e) => e);
		expect(aerr).toBeInstanceOf(Anthropic.APIError);
		expect(String(aerr.message)).toContain("overloaded_error");
	});

	test("setBehavior applies to every key until reset", async () => {
		mock.setBehavior("fail503");
		expect((await chat("plain").catch((e) => e)).status).toBe(503);
		mock.reset();
		expect((await chat("plain")).choices[0].message.content).toStartWith("echo: x");
	});
});

describe("fast mode and helpers", () => {
	test("fast mode serves cached bytes and counts without recording", async () => {
		const fast = await startMockUpstream({ fast: true });
		try {
			const client = new OpenAI({
				apiKey: "bench",
				baseURL: `${fast.url}/v1`,
				maxRetries: 0,
			});
			const body = {
				model: "m",
				messages: [user("x")],
				stream: true as const,
				stream_options: { include_usage: true },
			};
			for (let i = 0; i < 3; i++) {
				let usage = null;
				for await (const c of await client.chat.completions.create(body)) usage = c.usage ?? usage;
				expect(usage).toMatchObject({ completion_tokens: 12 });
			}
			expect(fast.countByKey("bench")).toBe(3);
			expect(fast.requests).toHaveLength(0);
		} finally {
			await fast.stop();
		}
	});

	test("freePort and waitFor", async () => {
		const port = await freePort();
		expect(port).toBeGreaterThan(0);
		const err = await waitFor(() => false, {
			timeoutMs: 30,
			what: "nothing",
		}).catch((e) => e);
		expect(String(err.message)).toContain("nothing");
	});
});
