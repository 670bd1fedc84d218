import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { type GatewayServer, startGatewayServer } from "../support/gateway-server.ts";
import { type MockUpstream, startMockUpstream } from "../support/mock-upstream.ts";

/**
 * The core end to end: the real server (2 HTTP workers) against the mock upstream, driven by
 * the official openai client. A second, hand-written upstream serves fixed bytes in odd
 * chunks for the byte-for-byte pass-through check.
 */

const CLIENT_KEY = "sk-client-e2e";
const ADMIN = "admin-token-e2e-0123456789";

// a realistic include_usage stream, split at awkward places (inside JSON, between \n\n)
const FIXED_EVENTS = [
	`data: {"id":"chatcmpl-fixed","object":"chat.completion.chunk","created":1700000000,"model":"fixed-1","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}],"usage":null}\n\n`,
	`data: {"id":"chatcmpl-fixed","object":"chat.completion.chunk","created":1700000000,"model":"fixed-1","choices":[{"index":0,"delta":{"content":"Héllo ✓"},"finish_reason":null}],"usage":null}\n\n`,
	`data: {"id":"chatcmpl-fixed","object":"chat.completion.chunk","created":1700000000,"model":"fixed-1","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}\n\n`,
	`data: {"id":"chatcmpl-fixed","object":"chat.completion.chunk","created":1700000000,"model":"fixed-1","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}}\n\n`,
	"data: [DONE]\n\n",
];
const FIXED_BYTES = new TextEncoder().encode(FIXED_EVENTS.join(""));
const CUTS = [7, 150, 151, 300, 420, 421, 600, FIXED_BYTES.length - 3];

let mock: MockUpstream;
let fixed: ReturnType<typeof Bun.serve>;
let gw: GatewayServer;
let client: OpenAI;

beforeAll(async () => {
	mock = await startMockUpstream();
	fixed = Bun.serve({
		port: 0,
		hostname: "127.0.0.1",
		fetch() {
			let i = 0;
			const stream = new ReadableStream<Uint8Array>({
				async pull(c) {
					const from = i === 0 ? 0 : CUTS[i - 1];
					const to = i < CUTS.length ? CUTS[i] : FIXED_BYTES.length;
					c.enqueue(FIXED_BYTES.slice(from, to));
					i++;
					if (to >= FIXED_BYTES.length) c.close();
					await Bun.sleep(1); // make the pieces separate TCP writes
				},
			});
			return new Response(stream, { headers: { "content-type": "text/event-stream" } });
		},
	});
	const dir = mkdtempSync(join(tmpdir(), "ix-core-"));
	const config = join(dir, "gateway.toml");
	writeFileSync(
		config,
		`
[server]
max_body_bytes = 65536
keepalive_interval_ms = 200

[auth]
static_keys = ["${CLIENT_KEY}"]

[[providers]]
name = "openai"
type = "openai"
base_url = "${mock.url}/v1"
models = ["gpt-4o-mini", "text-embedding-3-small"]
  [[providers.accounts]]
  name = "main"
  api_key = "env:UPSTREAM_KEY"

[[providers]]
name = "fixed"
type = "custom"
base_url = "http://127.0.0.1:${fixed.port}/v1"
models = ["fixed-1"]
api_key = "fixed-key"

[[providers]]
name = "stalled"
type = "openai"
base_url = "${mock.url}/v1"
models = ["stall-model"]
api_key = "k-stall"

[[providers]]
name = "broken"
type = "openai"
base_url = "${mock.url}/v1"
models = ["broken-model"]
api_key = "k-break3"

[[aliases]]
from = "gpt-4"
to = "openai/gpt-4o-mini"
`,
	);
	gw = await startGatewayServer({
		workers: 2,
		env: { GATEWAY_CONFIG: config, UPSTREAM_KEY: "sk-upstream-secret", GATEWAY_ADMIN_TOKEN: ADMIN },
	});
	client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: CLIENT_KEY, maxRetries: 0 });
}, 60_000);

afterAll(async () => {
	await gw?.cleanup();
	fixed?.stop(true);
	await mock?.stop();
});

describe("OpenAI client through the gateway", () => {
	test("models: union of providers, sorted, de-duplicated", async () => {
		const ids: string[] = [];
		for await (const m of client.models.list()) ids.push(m.id);
		expect(ids).toEqual(["broken-model", "fixed-1", "gpt-4o-mini", "stall-model", "text-embedding-3-small"]);
	});

	test("chat, not streamed: answer, usage, and the account's key (not the client's) upstream", async () => {
		mock.reset();
		const r = await client.chat.completions.create({
			model: "gpt-4o-mini",
			messages: [{ role: "user", content: "hello there gateway" }],
		});
		expect(r.choices[0].message.content?.startsWith("echo: hello there gateway")).toBe(true);
		expect(r.choices[0].message.role).toBe("assistant");
		expect(r.usage?.prompt_tokens).toBe(3 + 3);
		expect(r.usage?.total_tokens).toBe((r.usage?.prompt_tokens ?? 0) + (r.usage?.completion_tokens ?? 0));
		const seen = mock.requests.at(-1);
		expect(seen?.apiKey).toBe("sk-upstream-secret");
		expect(JSON.stringify(seen?.headers)).not.toContain(CLIENT_KEY);
	});

	test("provider/model and alias names resolve", async () => {
		const a = await client.chat.completions.create({
			model: "openai/gpt-4o-mini",
			messages: [{ role: "user", content: "x" }],
		});
		const b = await client.chat.completions.create({ model: "gpt-4", messages: [{ role: "user", content: "y" }] });
		expect(a.choices[0].message.content).toContain("echo: x");
		expect(b.choices[0].message.content).toContain("echo: y");
		expect(mock.requests.at(-1)?.body?.model).toBe("gpt-4o-mini");
	});

	test("chat streamed without include_usage: content arrives, the injected usage chunk is removed", async () => {
		mock.reset();
		const stream = await client.chat.completions.create({
			model: "gpt-4o-mini",
			stream: true,
			messages: [{ role: "user", content: "stream me please" }],
		});
		let text = "";
		let emptyChoiceChunks = 0;
		let usageSeen = false;
		for await (const chunk of stream) {
			if (chunk.choices.length === 0) emptyChoiceChunks++;
			if (chunk.usage) usageSeen = true;
			text += chunk.choices[0]?.delta?.content ?? "";
		}
		expect(text.startsWith("echo: stream me please")).toBe(true);
		expect(emptyChoiceChunks).toBe(0);
		expect(usageSeen).toBe(false);
		// the gateway asked the upstream for usage anyway, to bill it
		const streamOptions = mock.requests.at(-1)?.body?.stream_options as { include_usage?: boolean } | undefined;
		expect(streamOptions?.include_usage).toBe(true);
	});

	test("chat streamed with include_usage: usage chunk last, SDK helper assembles the message", async () => {
		const runner = client.chat.completions.stream({
			model: "gpt-4o-mini",
			messages: [{ role: "user", content: "count my tokens" }],
			stream_options: { include_usage: true },
		});
		const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
		runner.on("chunk", (c) => chunks.push(c));
		const final = await runner.finalChatCompletion();
		expect(final.choices[0].message.content?.startsWith("echo: count my tokens")).toBe(true);
		const last = chunks.at(-1);
		expect(last?.choices).toEqual([]);
		expect(last?.usage?.prompt_tokens).toBe(6);
		expect(last?.usage?.completion_tokens).toBe(12);
	});

	test("a streamed response with include_usage is byte-identical to the upstream's", async () => {
		const res = await fetch(`${gw.url}/v1/chat/completions`, {
			method: "POST",
			headers: { authorization: `Bearer ${CLIENT_KEY}`, "content-type": "application/json" },
			body: JSON.stringify({
				model: "fixed-1",
				stream: true,
				stream_options: { include_usage: true },
				messages: [{ role: "user", content: "hi" }],
			}),
		});
		expect(res.status).toBe(200);
		expect(res.headers.get("content-type")).toContain("text/event-stream");
		const body = new Uint8Array(await res.arrayBuffer());
		expect(Buffer.from(body).equals(Buffer.from(FIXED_BYTES))).toBe(true);
	});

	test("completions, plain and streamed", async () => {
		const c = await client.completions.create({ model: "gpt-4o-mini", prompt: "say something" });
		expect(c.choices[0].text.length).toBeGreaterThan(0);
		expect(c.usage?.total_tokens).toBeGreaterThan(0);
		const s = await client.completions.create({ model: "gpt-4o-mini", prompt: "say more", stream: true });
		let text = "";
		for await (const chunk of s) text += chunk.choices[0]?.text ?? "";
		expect(text.length).toBeGreaterThan(0);
	});

	test("embeddings", async () => {
		const e = await client.embeddings.create({ model: "text-embedding-3-small", input: ["a b", "c"] });
		expect(e.data.length).toBe(2);
		expect(e.data[0].embedding.length).toBeGreaterThan(0);
		expect(e.usage.prompt_tokens).toBeGreaterThan(0);
	});

	test("responses, plain and streamed", async () => {
		const r = await client.responses.create({ model: "gpt-4o-mini", input: "respond to this" });
		expect(r.output_text).toContain("respond to this");
		expect(r.usage?.input_tokens).toBeGreaterThan(0);
		const s = await client.responses.create({ model: "gpt-4o-mini", input: "stream response", stream: true });
		let text = "";
		let completed = false;
		for await (const ev of s) {
			if (ev.type === "response.output_text.delta") text += ev.delta;
			if (ev.type === "response.completed") completed = true;
		}
		expect(completed).toBe(true);
		expect(text).toContain("stream response");
	});

	test("the /api/v1 prefix serves the same routes", async () => {
		const alt = new OpenAI({ baseURL: `${gw.url}/api/v1`, apiKey: CLIENT_KEY, maxRetries: 0 });
		const r = await alt.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "api" }] });
		expect(r.choices[0].message.content).toContain("echo: api");
	});
});

describe("errors", () => {
	test("a bad key is an AuthenticationError carrying the request id", async () => {
		const bad = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "sk-wrong", maxRetries: 0 });
		const err = await bad.chat.completions
			.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "x" }] })
			.catch((e) => e);
		expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
		expect(err.status).toBe(401);
		expect(err.code).toBe("PLATFORM_AUTH_INVALID_API_KEY");
		expect(typeof err.requestID).toBe("string");
		expect(err.error.request_id).toBe(err.requestID);
	});

	test("a client's own x-request-id is propagated", async () => {
		const res = await fetch(`${gw.url}/v1/chat/completions`, {
			method: "POST",
			headers: { authorization: "Bearer nope", "x-request-id": "my-trace-42" },
			body: "{}",
		});
		expect(res.headers.get("x-request-id")).toBe("my-trace-42");
		expect(((await res.json()) as { error: { request_id: string } }).error.request_id).toBe("my-trace-42");
	});

	test("unknown model → NotFoundError PLATFORM_MODEL_NOT_FOUND", async () => {
		const err = await client.chat.completions
			.create({ model: "no-such-model", messages: [{ role: "user", content: "x" }] })
			.catch((e) => e);
		expect(err).toBeInstanceOf(OpenAI.NotFoundError);
		expect(err.code).toBe("PLATFORM_MODEL_NOT_FOUND");
		expect(err.param).toBe("model");
	});

	test("malformed JSON, missing field, body too large", async () => {
		const post = (body: string) =>
			fetch(`${gw.url}/v1/chat/completions`, {
				method: "POST",
				headers: { authorization: `Bearer ${CLIENT_KEY}`, "content-type": "application/json" },
				body,
			});
		const malformed = await post("{not json");
		expect(malformed.status).toBe(400);
		const m = (await malformed.json()) as { error: { code: string; request_id: string } };
		expect(m.error.code).toBe("PLATFORM_INVALID_JSON");
		expect(m.error.request_id).toBe(malformed.headers.get("x-request-id") ?? "");

		const missing = await post(JSON.stringify({ model: "gpt-4o-mini" }));
		expect(missing.status).toBe(400);
		const mm = (await missing.json()) as { error: { code: string; param: string } };
		expect(mm.error.code).toBe("PLATFORM_INVALID_REQUEST");
		expect(mm.error.param).toBe("messages");

		const big = await post(
			JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "x".repeat(70_000) }] }),
		);
		expect(big.status).toBe(413);
		expect(((await big.json()) as { error: { code: string } }).error.code).toBe("PLATFORM_PAYLOAD_TOO_LARGE");

		// far past the limit: still the gateway's own OpenAI-shaped 413 with a request id
		const huge = await post(
			JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "x".repeat(3_000_000) }] }),
		);
		expect(huge.status).toBe(413);
		expect(huge.headers.get("x-request-id")).toBeTruthy();
		expect(((await huge.json()) as { error: { code: string } }).error.code).toBe("PLATFORM_PAYLOAD_TOO_LARGE");
	});

	test("unknown route → OpenAI-shaped 404", async () => {
		const res = await fetch(`${gw.url}/v1/nope`);
		expect(res.status).toBe(404);
		const body = (await res.json()) as { error: { code: string } };
		expect(body.error.code).toBe("PLATFORM_NOT_FOUND");
		expect(res.headers.get("x-request-id")).toBeTruthy();
	});

	test("an upstream that breaks mid-stream gives the SDK an error, not a clean end", async () => {
		const stream = await client.chat.completions.create({
			model: "broken-model",
			stream: true,
			messages: [{ role: "user", content: "break please" }],
		});
		let text = "";
		const err = await (async () => {
			for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
		})().catch((e) => e);
		expect(err).toBeInstanceOf(OpenAI.APIError);
		expect(String(err.message)).toContain("upstream");
		expect(text.length).toBeGreaterThan(0);
	});
});

describe("streams and connections", () => {
	test("a client that disconnects mid-stream makes the gateway cancel the upstream within a second", async () => {
		const before = mock.cancelledStreams;
		const ac = new AbortController();
		const res = await fetch(`${gw.url}/v1/chat/completions`, {
			method: "POST",
			signal: ac.signal,
			headers: { authorization: `Bearer ${CLIENT_KEY}`, "content-type": "application/json" },
			body: JSON.stringify({ model: "stall-model", stream: true, messages: [{ role: "user", content: "hang" }] }),
		});
		const reader = (res.body as ReadableStream<Uint8Array>).getReader();
		const first = await reader.read();
		expect(first.done).toBe(false);
		await mock.waitFor(() => mock.activeStreams >= 1, 2_000, "the upstream stream to be open");
		const abortedAt = performance.now();
		ac.abort();
		await mock.waitFor(() => mock.cancelledStreams > before, 1_000, "the upstream stream to be cancelled");
		expect(performance.now() - abortedAt).toBeLessThan(1_000);
	});

	test("keepalive comments flow while the upstream is silent", async () => {
		const ac = new AbortController();
		const res = await fetch(`${gw.url}/v1/chat/completions`, {
			method: "POST",
			signal: ac.signal,
			headers: { authorization: `Bearer ${CLIENT_KEY}`, "content-type": "application/json" },
			body: JSON.stringify({ model: "stall-model", stream: true, messages: [{ role: "user", content: "quiet" }] }),
		});
		const reader = (res.body as ReadableStream<Uint8Array>).getReader();
		const dec = new TextDecoder();
		let seen = "";
		while (!seen.includes(": keepalive")) {
			const { value, done } = await reader.read();
			if (done) break;
			seen += dec.decode(value);
		}
		ac.abort();
		expect(seen).toContain(": keepalive\n\n");
	});
});

describe("ops", () => {
	test("healthz, readyz, version, metrics", async () => {
		expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
		const ready = (await (await fetch(`${gw.url}/readyz`)).json()) as { status: string };
		expect(ready.status).toBe("ready");
		const version = (await (await fetch(`${gw.url}/version`)).json()) as { name: string; version: string };
		expect(version.name).toBe("interchange");
		const metrics = await (await fetch(`${gw.url}/metrics`)).text();
		expect(metrics).toContain("# TYPE interchange_requests_total counter");
		expect(metrics).toMatch(
			/interchange_requests_total\{route="\/v1\/chat\/completions",model="gpt-4o-mini",provider="openai",status="200"\} \d+/,
		);
	});

	test("browsers get CORS on the data plane (preflight and answer); server-to-server calls take the direct route", async () => {
		const url = `${gw.url}/v1/chat/completions`;
		const origin = "https://console.example.com";
		const pre = await fetch(url, {
			method: "OPTIONS",
			headers: {
				origin,
				"access-control-request-method": "POST",
				"access-control-request-headers": "authorization,content-type",
			},
		});
		expect(pre.status).toBe(204);
		expect(pre.headers.get("access-control-allow-origin")).toBe(origin);
		const body = JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] });
		const headers = { authorization: `Bearer ${CLIENT_KEY}`, "content-type": "application/json" };
		const fromBrowser = await fetch(url, { method: "POST", headers: { ...headers, origin }, body });
		expect(fromBrowser.status).toBe(200);
		expect(fromBrowser.headers.get("access-control-allow-origin")).toBe(origin);
		expect(fromBrowser.headers.get("access-control-expose-headers")).toContain("x-request-id");
		expect(fromBrowser.headers.get("x-request-id")).toMatch(/^req_/);
		expect(((await fromBrowser.json()) as { object: string }).object).toBe("chat.completion");
		const direct = await fetch(url, { method: "POST", headers, body });
		expect(direct.status).toBe(200);
		expect(direct.headers.get("access-control-allow-origin")).toBeNull();
		expect(direct.headers.get("x-request-id")).toMatch(/^req_/);
		await direct.arrayBuffer();
		// errors keep their shape and request id on both routes
		for (const extra of [{}, { origin }] as Record<string, string>[]) {
			const bad = await fetch(url, { method: "POST", headers: { ...headers, ...extra }, body: "{nope" });
			expect(bad.status).toBe(400);
			const err = (await bad.json()) as { error: { code: string; request_id: string } };
			expect(err.error.code).toBe("PLATFORM_INVALID_JSON");
			expect(err.error.request_id).toBe(bad.headers.get("x-request-id") ?? "missing");
		}
	});

	test("logs are JSON lines with no secrets", async () => {
		const out = gw.output();
		expect(out).toContain('"msg":"request"');
		expect(out).not.toContain(CLIENT_KEY);
		expect(out).not.toContain("sk-upstream-secret");
		expect(out).not.toContain(ADMIN);
	});
});
