import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import type { LogRow } from "../../src/admin/usage-queries.ts";
import { type GatewayServer, startGatewayServer } from "../support/gateway-server.ts";
import { type MockUpstream, startMockUpstream } from "../support/mock-upstream.ts";
import { waitFor } from "../support/wait-for.ts";

/** Anthropic end to end: OpenAI clients on Claude, Anthropic clients on any provider. */

const KEY = "sk-anthropic-e2e";
const ADMIN = "admin-token-anthropic-0123456789";
const CLAUDE = "claude-3-5-haiku-latest";

let mock: MockUpstream;
let gw: GatewayServer;
let openai: OpenAI;
let anthropic: Anthropic;

beforeAll(async () => {
	mock = await startMockUpstream();
	const dir = mkdtempSync(join(tmpdir(), "ix-anthropic-"));
	const config = join(dir, "gateway.toml");
	writeFileSync(
		config,
		`
[auth]
static_keys = ["${KEY}"]

[[providers]]
name = "anthropic"
type = "anthropic"
base_url = "${mock.url}/v1"
models = ["${CLAUDE}"]
api_key = "ak-upstream"

[[providers]]
name = "claude-flaky"
type = "anthropic"
base_url = "${mock.url}/v1"
models = ["claude-flaky"]
api_key = "ak-midError"

[[providers]]
name = "openai"
type = "openai"
base_url = "${mock.url}/v1"
models = ["gpt-4o-mini"]
api_key = "sk-upstream"

[[prices]]
model = "${CLAUDE}"
input = 1.0
output = 5.0
cached_input = 0.1
`,
	);
	gw = await startGatewayServer({ workers: 2, env: { GATEWAY_CONFIG: config, GATEWAY_ADMIN_TOKEN: ADMIN } });
	openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY, maxRetries: 0 });
	anthropic = new Anthropic({ baseURL: gw.url, apiKey: KEY, maxRetries: 0 });
}, 60_000);

afterAll(async () => {
	await gw?.cleanup();
	await mock?.stop();
});

const weatherTool: OpenAI.Chat.Completions.ChatCompletionTool = {
	type: "function",
	function: {
		name: "get_weather",
		description: "Weather for a city",
		parameters: { type: "object", properties: { q: { type: "string" } }, required: ["q"] },
	},
};

describe("OpenAI client, Claude model (Anthropic provider)", () => {
	test("plain: content, role, finish_reason, usage; the upstream saw a Messages request", async () => {
		mock.reset();
		const r = await openai.chat.completions.create({
			model: CLAUDE,
			max_tokens: 12,
			messages: [
				{ role: "system", content: "be brief" },
				{ role: "user", content: "hello claude" },
			],
		});
		expect(r.choices[0].message.role).toBe("assistant");
		expect(r.choices[0].message.content?.startsWith("echo: hello claude")).toBe(true);
		expect(r.choices[0].finish_reason).toBe("stop");
		expect(r.usage?.completion_tokens).toBe(12);
		expect(r.usage?.total_tokens).toBe((r.usage?.prompt_tokens ?? 0) + 12);
		const seen = mock.requests.at(-1);
		expect(seen?.path).toBe("/v1/messages");
		expect(seen?.headers["x-api-key"]).toBe("ak-upstream");
		expect(seen?.headers["anthropic-version"]).toBe("2023-06-01");
		expect(seen?.body?.system).toBeTruthy();
		expect(seen?.body?.max_tokens).toBe(12);
		// without max_tokens the gateway supplies Anthropic's required one
		await openai.chat.completions.create({ model: CLAUDE, messages: [{ role: "user", content: "no limit" }] });
		expect(mock.requests.at(-1)?.body?.max_tokens).toBe(4096);
	});

	test("streamed with include_usage: role first, text deltas, finish_reason, usage chunk, [DONE]", async () => {
		const stream = await openai.chat.completions.create({
			model: CLAUDE,
			stream: true,
			max_completion_tokens: 12,
			stream_options: { include_usage: true },
			messages: [{ role: "user", content: "stream from claude" }],
		});
		const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
		for await (const c of stream) chunks.push(c);
		expect(chunks[0].choices[0].delta.role).toBe("assistant");
		const text = chunks.map((c) => c.choices[0]?.delta?.content ?? "").join("");
		expect(text.startsWith("echo: stream from claude")).toBe(true);
		expect(chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0].finish_reason).toBe("stop");
		const last = chunks.at(-1);
		expect(last?.choices).toEqual([]);
		expect(last?.usage?.completion_tokens).toBe(12);
		expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
	});

	test("tool calls round-trip (plain and streamed)", async () => {
		const first = await openai.chat.completions.create({
			model: CLAUDE,
			tools: [weatherTool],
			messages: [{ role: "user", content: "weather in Paris" }],
		});
		const call = first.choices[0].message.tool_calls?.[0];
		expect(first.choices[0].finish_reason).toBe("tool_calls");
		expect(call?.type).toBe("function");
		if (call?.type !== "function") throw new Error("expected a function call");
		expect(call.function.name).toBe("get_weather");
		expect(JSON.parse(call.function.arguments)).toEqual({ q: "weather in Paris" });

		const second = await openai.chat.completions.create({
			model: CLAUDE,
			tools: [weatherTool],
			messages: [
				{ role: "user", content: "weather in Paris" },
				first.choices[0].message,
				{ role: "tool", tool_call_id: call.id, content: "sunny 21C" },
			],
		});
		expect(second.choices[0].message.content).toContain("sunny 21C");
		const sent = mock.requests.at(-1)?.body?.messages as {
			role: string;
			content: { type: string; tool_use_id?: string }[];
		}[];
		const toolResult = sent[sent.length - 1];
		expect(toolResult.role).toBe("user");
		expect(toolResult.content[0].type).toBe("tool_result");
		expect(toolResult.content[0].tool_use_id).toBe(call.id);

		const runner = openai.chat.completions.stream({
			model: CLAUDE,
			tools: [weatherTool],
			messages: [{ role: "user", content: "weather in Rome" }],
		});
		const final = await runner.finalChatCompletion();
		const streamedCall = final.choices[0].message.tool_calls?.[0];
		if (streamedCall?.type !== "function") throw new Error("expected a streamed function call");
		expect(JSON.parse(streamedCall.function.arguments)).toEqual({ q: "weather in Rome" });
		expect(final.choices[0].finish_reason).toBe("tool_calls");
	});

	test("an in-stream Anthropic error becomes an SDK error", async () => {
		const stream = await openai.chat.completions.create({
			model: "claude-flaky",
			stream: true,
			messages: [{ role: "user", content: "this will fail" }],
		});
		const err = await (async () => {
			for await (const _ of stream) {
				// consume
			}
		})().catch((e) => e);
		expect(err).toBeInstanceOf(OpenAI.APIError);
	});
});

describe("Anthropic client", () => {
	test("to an OpenAI-type provider: plain message", async () => {
		const msg = await anthropic.messages.create({
			model: "gpt-4o-mini",
			max_tokens: 64,
			system: "be brief",
			messages: [{ role: "user", content: "hello from anthropic sdk" }],
		});
		expect(msg.type).toBe("message");
		expect(msg.role).toBe("assistant");
		expect(msg.content[0].type).toBe("text");
		expect((msg.content[0] as Anthropic.TextBlock).text).toContain("hello from anthropic sdk");
		expect(msg.stop_reason).toBe("end_turn");
		expect(msg.usage.output_tokens).toBeGreaterThan(0);
		expect(mock.requests.at(-1)?.path).toBe("/v1/chat/completions");
	});

	test("to an OpenAI-type provider: stream() helper and finalMessage(), with tools", async () => {
		const stream = anthropic.messages.stream({
			model: "gpt-4o-mini",
			max_tokens: 64,
			messages: [{ role: "user", content: "stream through openai" }],
		});
		let text = "";
		stream.on("text", (t) => {
			text += t;
		});
		const final = await stream.finalMessage();
		expect(text).toContain("stream through openai");
		expect((final.content[0] as Anthropic.TextBlock).text).toBe(text);
		expect(final.usage.output_tokens).toBeGreaterThan(0);

		const tools = await anthropic.messages
			.stream({
				model: "gpt-4o-mini",
				max_tokens: 64,
				tools: [
					{
						name: "lookup",
						description: "look up",
						input_schema: { type: "object", properties: { q: { type: "string" } } },
					},
				],
				messages: [{ role: "user", content: "find cats" }],
			})
			.finalMessage();
		expect(tools.stop_reason).toBe("tool_use");
		const use = tools.content.find((b) => b.type === "tool_use") as Anthropic.ToolUseBlock;
		expect(use.name).toBe("lookup");
		expect(use.input).toEqual({ q: "find cats" });
	});

	test("to an Anthropic provider: pass-through, plain, streamed and count_tokens", async () => {
		const msg = await anthropic.messages.create({
			model: CLAUDE,
			max_tokens: 64,
			messages: [{ role: "user", content: "straight to claude" }],
		});
		expect((msg.content[0] as Anthropic.TextBlock).text).toContain("straight to claude");
		const final = await anthropic.messages
			.stream({ model: CLAUDE, max_tokens: 64, messages: [{ role: "user", content: "claude stream" }] })
			.finalMessage();
		expect((final.content[0] as Anthropic.TextBlock).text).toContain("claude stream");
		expect(final.usage.output_tokens).toBe(64);
		const count = await anthropic.messages.countTokens({
			model: CLAUDE,
			messages: [{ role: "user", content: "count these words" }],
		});
		expect(count.input_tokens).toBeGreaterThan(0);
	});

	test("a bad key gets an Anthropic-shaped 401", async () => {
		const bad = new Anthropic({ baseURL: gw.url, apiKey: "wrong", maxRetries: 0 });
		const err = await bad.messages
			.create({ model: CLAUDE, max_tokens: 8, messages: [{ role: "user", content: "x" }] })
			.catch((e) => e);
		expect(err).toBeInstanceOf(Anthropic.AuthenticationError);
		expect(err.status).toBe(401);
		expect(err.error.type).toBe("error");
		expect(err.error.error.type).toBe("authentication_error");
		const raw = await fetch(`${gw.url}/v1/messages`, { method: "POST", headers: { "x-api-key": "wrong" }, body: "{}" });
		expect(((await raw.json()) as { type: string }).type).toBe("error");
	});
});

describe("usage", () => {
	test("recorded exactly once per request, with cache-read tokens and cost", async () => {
		const res = await fetch(`${gw.url}/v1/messages`, {
			method: "POST",
			headers: { "x-api-key": KEY, "content-type": "application/json", "anthropic-version": "2023-06-01" },
			body: JSON.stringify({
				model: CLAUDE,
				max_tokens: 16,
				system: [{ type: "text", text: "long cached system prompt words here", cache_control: { type: "ephemeral" } }],
				messages: [{ role: "user", content: "cached question" }],
			}),
		});
		const msg = (await res.json()) as {
			usage: { input_tokens: number; cache_read_input_tokens: number; output_tokens: number };
		};
		const requestId = res.headers.get("x-request-id") as string;
		expect(msg.usage.cache_read_input_tokens).toBeGreaterThan(0);
		let rows: LogRow[] = [];
		await waitFor(
			async () => {
				const page = await fetch(`${gw.url}/admin/logs?limit=200`, { headers: { "x-admin-token": ADMIN } }).then(
					(r) => r.json() as Promise<{ data: LogRow[] }>,
				);
				rows = page.data.filter((r) => r.request_id === requestId);
				return rows.length > 0;
			},
			{ what: "the usage row" },
		);
		expect(rows.length).toBe(1);
		const row = rows[0];
		expect(row.cached_tokens).toBe(msg.usage.cache_read_input_tokens);
		expect(row.prompt_tokens).toBe(msg.usage.input_tokens + msg.usage.cache_read_input_tokens);
		expect(row.completion_tokens).toBe(msg.usage.output_tokens);
		const expectedCost =
			(msg.usage.input_tokens * 1.0 + msg.usage.cache_read_input_tokens * 0.1 + msg.usage.output_tokens * 5.0) / 1e6;
		expect(row.cost_usd).toBeCloseTo(expectedCost, 12);
	});
});
