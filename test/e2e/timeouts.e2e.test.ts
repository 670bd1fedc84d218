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

/**
 * Connections and streams that stop moving: a client that never finishes its body, an
 * upstream that goes quiet mid-stream, and streams still open when the drain timeout ends.
 * Tiny configured timeouts, raw sockets where the HTTP client would hide the behaviour.
 */

const KEY = "sk-timeouts-e2e";
const ADMIN = "admin-token-timeouts-0123456789";
const BODY_TIMEOUT_MS = 300;
const STREAM_IDLE_MS = 500;

let mock: MockUpstream;
/** An OpenAI-shaped upstream that sends one chunk, then only `: ping` comments, forever. */
let pinger: ReturnType<typeof Bun.serve>;
let gw: GatewayServer;
let openai: OpenAI;
let anthropic: Anthropic;

const enc = new TextEncoder();

function startPinger() {
	return Bun.serve({
		port: 0,
		hostname: "127.0.0.1",
		fetch(req) {
			let timer: ReturnType<typeof setInterval> | null = null;
			const stream = new ReadableStream<Uint8Array>({
				start(c) {
					c.enqueue(
						enc.encode(
							`data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"pinged","choices":[{"index":0,"delta":{"role":"assistant","content":"hi"},"finish_reason":null}]}\n\n`,
						),
					);
					timer = setInterval(() => {
						try {
							c.enqueue(enc.encode(": ping\n\n"));
						} catch {
							if (timer) clearInterval(timer);
						}
					}, 50);
					req.signal.addEventListener("abort", () => {
						if (timer) clearInterval(timer);
					});
				},
				cancel() {
					if (timer) clearInterval(timer);
				},
			});
			return new Response(stream, { headers: { "content-type": "text/event-stream" } });
		},
	});
}

function configFile(extra = ""): string {
	const dir = mkdtempSync(join(tmpdir(), "ix-timeouts-"));
	const path = join(dir, "gateway.toml");
	writeFileSync(
		path,
		`
[server]
body_timeout_ms = ${BODY_TIMEOUT_MS}
keepalive_interval_ms = 100
${extra}

[routing]
stream_idle_timeout_ms = ${STREAM_IDLE_MS}

[auth]
static_keys = ["${KEY}"]

[[providers]]
name = "openai"
type = "openai"
base_url = "${mock.url}/v1"
models = ["gpt-4o-mini"]
api_key = "sk-upstream"

[[providers]]
name = "stalled"
type = "openai"
base_url = "${mock.url}/v1"
models = ["stall-model"]
api_key = "k-stall"

[[providers]]
name = "pinged"
type = "custom"
base_url = "http://127.0.0.1:${pinger.port}/v1"
models = ["pinged"]
api_key = "k-ping"

[[providers]]
name = "claude-stalled"
type = "anthropic"
base_url = "${mock.url}/v1"
models = ["claude-stall"]
api_key = "ak-stall"

[[providers]]
name = "claude-slow"
type = "anthropic"
base_url = "${mock.url}/v1"
models = ["claude-slow"]
api_key = "ak-drip400"
`,
	);
	return path;
}

beforeAll(async () => {
	mock = await startMockUpstream();
	pinger = startPinger();
	gw = await startGatewayServer({ env: { GATEWAY_CONFIG: configFile(), GATEWAY_ADMIN_TOKEN: ADMIN } });
	openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY, maxRetries: 0 });
	anthropic = new Anthropic({ baseURL: gw.url, apiKey: KEY, maxRetries: 0 });
}, 60_000);

afterAll(async () => {
	await gw?.cleanup();
	pinger?.stop(true);
	await mock?.stop();
});

interface RawExchange {
	/** Everything the server sent. */
	text: string;
	/** ms from connect to the server closing the socket; null when it was still open at the end. */
	closedAfterMs: number | null;
}

/**
 * Sends a request head announcing `Content-Length: 1000` and only the first bytes of the
 * body, then waits (at most `waitMs`) for the server to answer and close the connection.
 */
function halfSentRequest(port: number, headers: Record<string, string>, waitMs: number): Promise<RawExchange> {
	const t0 = performance.now();
	let text = "";
	return new Promise((resolve) => {
		let settled = false;
		const done = (closedAfterMs: number | null) => {
			if (settled) return;
			settled = true;
			resolve({ text, closedAfterMs });
		};
		void Bun.connect({
			hostname: "127.0.0.1",
			port,
			socket: {
				open(s) {
					const head = Object.entries({ host: "gateway", "content-type": "application/json", ...headers })
						.map(([k, v]) => `${k}: ${v}\r\n`)
						.join("");
					s.write(`POST /v1/chat/completions HTTP/1.1\r\n${head}content-length: 1000\r\n\r\n{"model":"gpt-4o`);
					setTimeout(() => {
						done(null);
						s.end();
					}, waitMs);
				},
				data(_s, d) {
					text += d.toString();
				},
				close() {
					done(performance.now() - t0);
				},
				error() {
					done(performance.now() - t0);
				},
			},
		});
	});
}

const admin = async <T>(path: string): Promise<T> => {
	const r = await fetch(`${gw.url}${path}`, { headers: { authorization: `Bearer ${ADMIN}` } });
	if (!r.ok) throw new Error(`${path} → ${r.status} ${await r.text()}`);
	return (await r.json()) as T;
};

/** The usage row of one request, once the audit writer has landed it. */
async function rowOf(requestId: string): Promise<LogRow> {
	let row: LogRow | undefined;
	await waitFor(
		async () => {
			const page = await admin<{ data: LogRow[] }>("/admin/logs?limit=500");
			row = page.data.find((r) => r.request_id === requestId || `req_${r.request_id}` === requestId);
			return row !== undefined;
		},
		{ timeoutMs: 10_000, what: `the usage row of ${requestId}` },
	);
	return row as LogRow;
}

describe("a request body that does not arrive", () => {
	test("an authenticated request that stops mid-body gets 408 PLATFORM_REQUEST_TIMEOUT and its connection is closed", async () => {
		const r = await halfSentRequest(gw.port, { authorization: `Bearer ${KEY}` }, 10_000);
		expect(r.text.split("\r\n")[0]).toBe("HTTP/1.1 408 Request Timeout");
		expect(r.text.toLowerCase()).toContain("connection: close");
		expect(r.text).toContain('"code":"PLATFORM_REQUEST_TIMEOUT"');
		expect(r.text).toMatch(/"request_id":"req_/);
		expect(r.closedAfterMs).not.toBeNull();
		expect(r.closedAfterMs as number).toBeGreaterThanOrEqual(BODY_TIMEOUT_MS - 50);
		expect(r.closedAfterMs as number).toBeLessThan(BODY_TIMEOUT_MS + 3_000);
	}, 20_000);

	test("an unauthenticated request that stops mid-body is refused at once and its connection closed", async () => {
		const r = await halfSentRequest(gw.port, {}, 10_000);
		expect(r.text.split("\r\n")[0]).toBe("HTTP/1.1 401 Unauthorized");
		expect(r.text.toLowerCase()).toContain("connection: close");
		expect(r.text).toContain('"code":"PLATFORM_AUTH_MISSING_API_KEY"');
		expect(r.closedAfterMs).not.toBeNull();
		expect(r.closedAfterMs as number).toBeLessThan(BODY_TIMEOUT_MS);
	}, 20_000);

	test("a complete body is served and its connection kept (no connection: close)", async () => {
		const body = JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] });
		const res = await fetch(`${gw.url}/v1/chat/completions`, {
			method: "POST",
			headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
			body,
		});
		expect(res.status).toBe(200);
		expect(res.headers.get("connection")).not.toBe("close");
		await res.arrayBuffer();
	});
});

describe("an upstream that goes quiet mid-stream", () => {
	test("OpenAI client: an in-band error after stream_idle_timeout_ms, the upstream cancelled, the row says what was seen", async () => {
		const cancelledBefore = mock.cancelledStreams;
		const t0 = performance.now();
		const { data: stream, response } = await openai.chat.completions
			.create({ model: "stall-model", stream: true, messages: [{ role: "user", content: "hang" }] })
			.withResponse();
		let chunks = 0;
		const err = await (async () => {
			for await (const _ of stream) chunks++;
		})().catch((e) => e);
		const elapsed = performance.now() - t0;
		expect(err).toBeInstanceOf(OpenAI.APIError);
		expect(String(err.message)).toContain(`sent nothing for ${STREAM_IDLE_MS} ms`);
		// keepalive comments went out every 100 ms meanwhile and did not keep it alive
		expect(elapsed).toBeGreaterThanOrEqual(STREAM_IDLE_MS - 50);
		expect(elapsed).toBeLessThan(STREAM_IDLE_MS + 3_000);
		expect(chunks).toBeGreaterThan(0);
		await mock.waitFor(() => mock.cancelledStreams > cancelledBefore, 2_000, "the upstream stream to be cancelled");
		const row = await rowOf(response.headers.get("x-request-id") ?? "");
		expect(row.status).toBe(200);
		expect(row.error_code).toBe("UPSTREAM_TIMEOUT");
		expect(row.incomplete).toBe(true);
		expect(row.stream).toBe(true);
	}, 20_000);

	test("upstream `: ping` comments do not count as progress", async () => {
		const t0 = performance.now();
		const res = await fetch(`${gw.url}/v1/chat/completions`, {
			method: "POST",
			headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
			body: JSON.stringify({ model: "pinged", stream: true, messages: [{ role: "user", content: "ping" }] }),
		});
		expect(res.status).toBe(200);
		const text = await res.text();
		expect(performance.now() - t0).toBeLessThan(STREAM_IDLE_MS + 3_000);
		expect(text).toContain('"content":"hi"');
		expect(text).toContain('"code":"UPSTREAM_TIMEOUT"');
		expect(text).not.toContain("[DONE]");
		const row = await rowOf(res.headers.get("x-request-id") ?? "");
		expect(row.error_code).toBe("UPSTREAM_TIMEOUT");
	}, 20_000);

	test("Anthropic client: an `event: error`, and the row keeps the input tokens message_start reported", async () => {
		const res = await fetch(`${gw.url}/v1/messages`, {
			method: "POST",
			headers: { "x-api-key": KEY, "content-type": "application/json", "anthropic-version": "2023-06-01" },
			body: JSON.stringify({
				model: "claude-stall",
				max_tokens: 50,
				stream: true,
				messages: [{ role: "user", content: "a few words of prompt" }],
			}),
		});
		expect(res.status).toBe(200);
		const text = await res.text();
		expect(text).toContain("event: message_start");
		expect(text).toMatch(
			/event: error\ndata: \{"type":"error","error":\{"type":"[a-z_]+","message":"The upstream sent nothing/,
		);
		// the SDK surfaces it as an error too
		const stream = anthropic.messages.stream({
			model: "claude-stall",
			max_tokens: 50,
			messages: [{ role: "user", content: "again" }],
		});
		const err = await stream.finalMessage().catch((e) => e);
		expect(String(err?.message)).toContain("sent nothing");
		const row = await rowOf(res.headers.get("x-request-id") ?? "");
		expect(row.status).toBe(200);
		expect(row.error_code).toBe("UPSTREAM_TIMEOUT");
		expect(row.prompt_tokens).toBeGreaterThan(0);
	}, 20_000);
});

describe("streams open when the drain timeout ends", () => {
	test("they end with an in-band error event, not a reset, and their usage so far is recorded", async () => {
		const drainGw = await startGatewayServer({
			env: { GATEWAY_CONFIG: configFile("drain_timeout_ms = 300"), GATEWAY_ADMIN_TOKEN: ADMIN },
		});
		try {
			const active = mock.activeStreams;
			// 10 events, one every 400 ms: still running when the drain gives up
			const reading = fetch(`${drainGw.url}/v1/messages`, {
				method: "POST",
				headers: { "x-api-key": KEY, "content-type": "application/json", "anthropic-version": "2023-06-01" },
				body: JSON.stringify({
					model: "claude-slow",
					max_tokens: 10,
					stream: true,
					messages: [{ role: "user", content: "a slow answer please" }],
				}),
			}).then(async (res) => ({ status: res.status, id: res.headers.get("x-request-id"), text: await res.text() }));
			await mock.waitFor(() => mock.activeStreams > active, 5_000, "the upstream stream to be open");
			drainGw.proc.kill("SIGTERM");
			const got = await reading;
			expect(got.status).toBe(200);
			expect(got.text).toContain("event: message_start");
			expect(got.text).toContain('"message":"The gateway is shutting down');
			expect(got.text).not.toContain("event: message_stop");
			expect(await drainGw.proc.exited).toBe(0);
			const line = drainGw
				.output()
				.split("\n")
				.filter((l) => l.includes('"msg":"request"'))
				.map((l) => JSON.parse(l) as { request_id: string; status: number; error_code?: string; tokens: number })
				.find((l) => `req_${l.request_id}` === got.id || l.request_id === got.id);
			expect(line?.status).toBe(200);
			expect(line?.error_code).toBe("PLATFORM_SHUTTING_DOWN");
			expect(line?.tokens).toBeGreaterThan(0);
		} finally {
			await drainGw.cleanup();
		}
	}, 30_000);
});
