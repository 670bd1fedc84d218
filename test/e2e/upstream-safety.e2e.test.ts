import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { type GatewayServer, startGatewayServer } from "../support/gateway-server.ts";

/**
 * What the gateway lets an upstream do to it: no redirect is followed (the account's key never
 * reaches another host), and no non-streamed answer or error body is read past its cap.
 */

const KEY = "sk-safety-client";
const ADMIN = "admin-token-safety-0123456789";
const BIG = "x".repeat(300_000);

type Seen = { path: string; headers: Record<string, string> };
const sinkSeen: Seen[] = [];
let sink: ReturnType<typeof Bun.serve>;
let upstream: ReturnType<typeof Bun.serve>;
let gw: GatewayServer;

const completion = (content: string) =>
	JSON.stringify({
		id: "c1",
		object: "chat.completion",
		created: 1,
		model: "m",
		choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
		usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
	});

beforeAll(async () => {
	// the sink stands for another host: anything arriving here has followed a redirect
	sink = Bun.serve({
		port: 0,
		hostname: "127.0.0.1",
		fetch(req) {
			sinkSeen.push({ path: new URL(req.url).pathname, headers: Object.fromEntries(req.headers) });
			return new Response(completion("from the sink"), { headers: { "content-type": "application/json" } });
		},
	});
	upstream = Bun.serve({
		port: 0,
		hostname: "127.0.0.1",
		async fetch(req) {
			const path = new URL(req.url).pathname;
			await req.text();
			if (path.startsWith("/redirect")) {
				return new Response(null, { status: 307, headers: { location: `http://127.0.0.1:${sink.port}/steal` } });
			}
			if (path.startsWith("/big-declared")) {
				return new Response(completion(BIG), { headers: { "content-type": "application/json" } });
			}
			if (path.startsWith("/big-chunked")) {
				const body = new ReadableStream({
					start(c) {
						for (let i = 0; i < 30; i++) c.enqueue(new TextEncoder().encode("x".repeat(10_000)));
						c.close();
					},
				});
				return new Response(body, { headers: { "content-type": "application/json" } });
			}
			if (path.startsWith("/big-error")) {
				return new Response(JSON.stringify({ error: { message: BIG } }), {
					status: 400,
					headers: { "content-type": "application/json" },
				});
			}
			return new Response(completion("fine"), { headers: { "content-type": "application/json" } });
		},
	});
	const base = `http://127.0.0.1:${upstream.port}`;
	const dir = mkdtempSync(join(tmpdir(), "ix-safety-"));
	const config = join(dir, "gateway.toml");
	const provider = (name: string, type: string, path: string, model: string, key: string) => `
[[providers]]
name = "${name}"
type = "${type}"
base_url = "${base}${path}"
models = ["${model}"]
api_key = "${key}"
`;
	writeFileSync(
		config,
		`
[auth]
static_keys = ["${KEY}"]

[routing]
max_account_switches = 0
max_upstream_body_bytes = 200000
${provider("azure", "azure-openai", "/redirect/azure", "az-model", "azure-SECRET-key")}
${provider("claude", "anthropic", "/redirect/anthropic", "claude-model", "anthropic-SECRET-key")}
${provider("oai", "openai", "/redirect/openai", "oai-model", "openai-SECRET-key")}
${provider("declared", "openai", "/big-declared", "declared-model", "k1")}
${provider("chunked", "openai", "/big-chunked", "chunked-model", "k2")}
${provider("errors", "openai", "/big-error", "error-model", "k3")}
${provider("fine", "openai", "/fine", "fine-model", "k4")}
`,
	);
	gw = await startGatewayServer({ env: { GATEWAY_CONFIG: config, GATEWAY_ADMIN_TOKEN: ADMIN } });
}, 60_000);

afterAll(async () => {
	await gw?.cleanup();
	sink?.stop(true);
	upstream?.stop(true);
});

const openai = () => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY, maxRetries: 0 });
const ask = (model: string) => openai().chat.completions.create({ model, messages: [{ role: "user", content: "hi" }] });

async function codeOf(p: Promise<unknown>): Promise<{ status?: number; code?: string }> {
	try {
		await p;
		return {};
	} catch (e) {
		const err = e as { status?: number; code?: string };
		return { status: err.status, code: err.code };
	}
}

describe("upstream redirects", () => {
	test("a 3xx is UPSTREAM_BAD_RESPONSE and no credential reaches the redirect target", async () => {
		for (const model of ["az-model", "oai-model"]) {
			expect(await codeOf(ask(model))).toEqual({ status: 502, code: "UPSTREAM_BAD_RESPONSE" });
		}
		const anthropic = new Anthropic({ baseURL: gw.url, apiKey: KEY, maxRetries: 0 });
		const res = await codeOf(
			anthropic.messages.create({ model: "claude-model", max_tokens: 5, messages: [{ role: "user", content: "hi" }] }),
		);
		expect(res.status).toBe(502);
		expect(sinkSeen).toEqual([]);
		// the gateway still serves a well-behaved upstream
		expect((await ask("fine-model")).choices[0].message.content).toBe("fine");
	});
});

describe("upstream body caps", () => {
	test("a non-streamed answer over max_upstream_body_bytes is UPSTREAM_BAD_RESPONSE, declared or chunked", async () => {
		expect(await codeOf(ask("declared-model"))).toEqual({ status: 502, code: "UPSTREAM_BAD_RESPONSE" });
		expect(await codeOf(ask("chunked-model"))).toEqual({ status: 502, code: "UPSTREAM_BAD_RESPONSE" });
	});

	test("an error body over its cap is UPSTREAM_BAD_RESPONSE, not relayed", async () => {
		expect(await codeOf(ask("error-model"))).toEqual({ status: 502, code: "UPSTREAM_BAD_RESPONSE" });
	});
});

describe("admin posts on a real process", () => {
	test("an unauthenticated 8 MB post is 401 at once; an authenticated one over 1 MiB is 413", async () => {
		const body = new Uint8Array(8 * 1024 * 1024).fill(0x20);
		const post = (headers: Record<string, string>) =>
			fetch(`${gw.url}/admin/keys`, {
				method: "POST",
				headers: { "content-type": "application/json", ...headers },
				body,
			});
		const anonymous = await post({});
		expect(anonymous.status).toBe(401);
		expect((await anonymous.json()).error.code).toBe("PLATFORM_ADMIN_UNAUTHORIZED");
		const authorised = await post({ authorization: `Bearer ${ADMIN}` });
		expect(authorised.status).toBe(413);
		expect((await authorised.json()).error.code).toBe("PLATFORM_PAYLOAD_TOO_LARGE");
	});
});
