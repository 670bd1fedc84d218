import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createOpenAI } from "@ai-sdk/openai";
import { ChatOpenAI } from "@langchain/openai";
import { generateObject, generateText, streamText } from "ai";
import OpenAI from "openai";
import { z } from "zod";
import { type GatewayServer, startGatewayServer } from "../support/gateway-server.ts";
import { type MockUpstream, startMockUpstream } from "../support/mock-upstream.ts";

/** The clients people use (Vercel AI SDK, LangChain, OpenAI SDK) on an OpenAI-type and an Anthropic-type model. */

const KEY = "sk-clients-e2e";
const ADMIN = "admin-token-clients-0123456789";
// a cap on output tokens keeps the mock answers short: exactly that many words
const MODELS = { "OpenAI-type": "gpt-4o-mini", "Anthropic-type": "claude-3-5-haiku-latest" } as const;
const City = z.object({ city: z.string(), days: z.number() });

let mock: MockUpstream;
let gw: GatewayServer;

beforeAll(async () => {
	mock = await startMockUpstream({ models: ["gpt-4o-mini", "gpt-4o", "o3-mini", "text-embedding-3-small"] });
	const dir = mkdtempSync(join(tmpdir(), "ix-clients-"));
	const config = join(dir, "gateway.toml");
	writeFileSync(
		config,
		`
[auth]
static_keys = ["${KEY}"]

[[providers]]
name = "openai"
type = "openai"
base_url = "${mock.url}/v1"
models = ["gpt-4o-mini"]
api_key = "sk-upstream"

[[providers]]
name = "claude"
type = "anthropic"
base_url = "${mock.url}/v1"
models = ["claude-3-5-haiku-latest"]
api_key = "ak-upstream"

[[providers]]
name = "wild"
type = "openai"
base_url = "${mock.url}/v1"
models = ["*"]
api_key = "sk-wild"
`,
	);
	gw = await startGatewayServer({ env: { GATEWAY_CONFIG: config, GATEWAY_ADMIN_TOKEN: ADMIN } });
}, 60_000);

afterAll(async () => {
	await gw?.cleanup();
	await mock?.stop();
});

const aiOpenAI = () => createOpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY });

for (const [kind, id] of Object.entries(MODELS)) {
	describe(`Vercel AI SDK, ${kind} model`, () => {
		const variants = {
			"openai(id) (Responses API)": () => aiOpenAI()(id),
			"openai.chat(id)": () => aiOpenAI().chat(id),
		};
		for (const [name, model] of Object.entries(variants)) {
			test(`${name}: generateText`, async () => {
				const r = await generateText({ model: model(), prompt: "hello there", maxOutputTokens: 12, maxRetries: 0 });
				expect(r.text).toStartWith("echo: hello there");
				expect(r.finishReason).toBe("stop");
				expect(r.usage.inputTokens).toBeGreaterThan(0);
				expect(r.usage.outputTokens).toBe(12);
			});

			test(`${name}: streamText`, async () => {
				const r = streamText({ model: model(), prompt: "stream me", maxOutputTokens: 12, maxRetries: 0 });
				let text = "";
				for await (const piece of r.textStream) text += piece;
				expect(text).toStartWith("echo: stream me");
				expect(await r.finishReason).toBe("stop");
				expect((await r.usage).outputTokens).toBe(12);
			});

			test(`${name}: generateObject`, async () => {
				const r = await generateObject({ model: model(), schema: City, prompt: "a trip", maxRetries: 0 });
				expect(r.object).toEqual({ city: "mock", days: 1 });
				expect(r.finishReason).toBe("stop");
			});
		}
	});

	describe(`LangChain ChatOpenAI, ${kind} model`, () => {
		for (const useResponsesApi of [false, true]) {
			const chat = () =>
				new ChatOpenAI({
					model: id,
					apiKey: KEY,
					configuration: { baseURL: `${gw.url}/v1` },
					useResponsesApi,
					maxTokens: 12,
					maxRetries: 0,
				});
			const label = useResponsesApi ? "useResponsesApi" : "chat completions";

			test(`${label}: invoke`, async () => {
				const r = await chat().invoke("hi langchain");
				expect(r.text).toStartWith("echo: hi langchain");
				expect(r.usage_metadata?.output_tokens).toBe(12);
			});

			test(`${label}: stream`, async () => {
				let text = "";
				for await (const chunk of await chat().stream("stream langchain")) text += chunk.text;
				expect(text).toStartWith("echo: stream langchain");
			});

			test(`${label}: withStructuredOutput`, async () => {
				const r = await chat().withStructuredOutput(City, { name: "trip" }).invoke("a trip");
				expect(r).toEqual({ city: "mock", days: 1 });
			});
		}
	});
}

describe("OpenAI SDK models", () => {
	const client = (apiKey = KEY) => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey, maxRetries: 0 });

	test("models.retrieve: a bare id, a provider/model id, and an unknown id", async () => {
		expect(await client().models.retrieve("gpt-4o-mini")).toMatchObject({
			id: "gpt-4o-mini",
			object: "model",
			owned_by: "openai",
		});
		expect(await client().models.retrieve("claude/claude-3-5-haiku-latest")).toMatchObject({
			id: "claude/claude-3-5-haiku-latest",
			owned_by: "claude",
		});
		expect(await client().models.retrieve("wild/o3-mini")).toMatchObject({ id: "wild/o3-mini", owned_by: "wild" });
		const err = await client()
			.models.retrieve("nope")
			.catch((e) => e);
		expect(err).toBeInstanceOf(OpenAI.NotFoundError);
		expect(err.code).toBe("PLATFORM_MODEL_NOT_FOUND");
	});

	test("models.list: a models = ['*'] provider lists its upstream's models; a key sees only its allowlist", async () => {
		const ids = (await client().models.list()).data.map((m) => m.id);
		expect(ids).toEqual(
			expect.arrayContaining(["gpt-4o-mini", "claude-3-5-haiku-latest", "wild/gpt-4o", "wild/o3-mini"]),
		);
		expect(ids).not.toContain("*");

		const created = await fetch(`${gw.url}/admin/keys`, {
			method: "POST",
			headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
			body: JSON.stringify({ tenant_id: "clients", models: ["claude/*", "wild/gpt-4o*"] }),
		});
		expect(created.status).toBe(201);
		const { key } = (await created.json()) as { key: string };
		const limited = client(key);
		expect((await limited.models.list()).data.map((m) => m.id).sort()).toEqual([
			"claude-3-5-haiku-latest",
			"wild/gpt-4o",
			"wild/gpt-4o-mini",
		]);
		expect((await limited.models.retrieve("claude-3-5-haiku-latest")).owned_by).toBe("claude");
		const denied = await limited.models.retrieve("gpt-4o-mini").catch((e) => e);
		expect(denied).toBeInstanceOf(OpenAI.PermissionDeniedError);
		const chat = await limited.chat.completions.create({
			model: "claude-3-5-haiku-latest",
			messages: [{ role: "user", content: "allowed by claude/*" }],
		});
		expect(chat.choices[0].message.content).toStartWith("echo: allowed");
	});
});

describe("Responses API on an Anthropic-type model: refusals", () => {
	test("previous_response_id is refused with a 400 naming it", async () => {
		const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY, maxRetries: 0 });
		const err = await client.responses
			.create({ model: MODELS["Anthropic-type"], input: "hi", previous_response_id: "resp_1" })
			.catch((e) => e);
		expect(err).toBeInstanceOf(OpenAI.BadRequestError);
		expect(err.param).toBe("previous_response_id");
		expect(err.code).toBe("PLATFORM_INVALID_REQUEST");
	});
});
