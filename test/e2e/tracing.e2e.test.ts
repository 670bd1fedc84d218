import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Server } from "bun";
import OpenAI from "openai";
import type { LogRow } from "../../src/admin/usage-queries.ts";
import { type GatewayServer, startGatewayServer } from "../support/gateway-server.ts";
import { type MockUpstream, startMockUpstream } from "../support/mock-upstream.ts";
import { waitFor } from "../support/wait-for.ts";

/** OpenTelemetry traces end to end: the real gateway exports to an OTLP/HTTP receiver the test runs. */

const KEY = "sk-tracing-client";
const ADMIN = "admin-token-tracing-0123456789";
const COLLECTOR_TOKEN = "collector-t0ken";

type AnyValue = { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean };
interface OtlpSpan {
	traceId: string;
	spanId: string;
	parentSpanId?: string;
	name: string;
	kind: number;
	attributes?: { key: string; value: AnyValue }[];
	events?: { name: string }[];
	status?: { code?: number; message?: string };
}
interface OtlpExport {
	resourceSpans: {
		resource?: { attributes?: { key: string; value: AnyValue }[] };
		scopeSpans: { spans: OtlpSpan[] }[];
	}[];
}

const SPAN_KIND_SERVER = 2;
const SPAN_KIND_CLIENT = 3;
const STATUS_ERROR = 2;

/** A minimal OTLP/HTTP (JSON) receiver: every span posted to /v1/traces, and each post's headers. */
class OtlpReceiver {
	readonly spans: OtlpSpan[] = [];
	readonly posts: Headers[] = [];
	readonly serviceNames = new Set<string>();
	private readonly server: Server<undefined>;

	constructor() {
		this.server = Bun.serve({
			port: 0,
			hostname: "127.0.0.1",
			fetch: async (req) => {
				if (new URL(req.url).pathname !== "/v1/traces") return new Response("not found", { status: 404 });
				this.posts.push(req.headers);
				const body = (await req.json()) as OtlpExport;
				for (const rs of body.resourceSpans) {
					const service = rs.resource?.attributes?.find((a) => a.key === "service.name")?.value.stringValue;
					if (service) this.serviceNames.add(service);
					for (const ss of rs.scopeSpans) this.spans.push(...ss.spans);
				}
				return Response.json({});
			},
		});
	}

	get url(): string {
		return `http://127.0.0.1:${this.server.port}`;
	}

	/** Every span of the trace whose server span carries this request id, once the server span is in. */
	async traceOf(requestId: string, spanCount: number): Promise<OtlpSpan[]> {
		let spans: OtlpSpan[] = [];
		await waitFor(
			() => {
				const server = this.spans.find((s) => attr(s, "interchange.request_id") === requestId);
				spans = server ? this.spans.filter((s) => s.traceId === server.traceId) : [];
				return spans.length >= spanCount;
			},
			{ timeoutMs: 15_000, what: `${spanCount} spans of request ${requestId}` },
		);
		return spans;
	}

	stop(): void {
		this.server.stop(true);
	}
}

function attr(span: OtlpSpan, key: string): string | number | boolean | undefined {
	const v = span.attributes?.find((a) => a.key === key)?.value;
	if (!v) return undefined;
	if (v.intValue !== undefined) return Number(v.intValue);
	return v.stringValue ?? v.doubleValue ?? v.boolValue;
}

let mock: MockUpstream;
let dir: string;
beforeAll(async () => {
	mock = await startMockUpstream();
	dir = mkdtempSync(join(tmpdir(), "ix-tracing-"));
}, 30_000);
afterAll(async () => {
	await mock?.stop();
	rmSync(dir, { recursive: true, force: true });
});

/** Two accounts, tried in order: the first answers 503, so every request fails over once. */
function writeConfig(name: string, telemetry: string): string {
	const path = join(dir, `${name}.toml`);
	writeFileSync(
		path,
		`
[auth]
static_keys = ["${KEY}"]

[routing]
strategy = "first_available"
max_account_switches = 2

${telemetry}

[[providers]]
name = "pool"
type = "openai"
base_url = "${mock.url}/v1"
models = ["gpt-4o-mini"]
  [[providers.accounts]]
  name = "broken"
  api_key = "acct-fail503"
  [[providers.accounts]]
  name = "healthy"
  api_key = "acct-healthy"
`,
	);
	return path;
}

async function rowOf(gw: GatewayServer, requestId: string): Promise<LogRow> {
	let row: LogRow | undefined;
	await waitFor(
		async () => {
			const res = await fetch(`${gw.url}/admin/logs?limit=100`, { headers: { authorization: `Bearer ${ADMIN}` } });
			row = ((await res.json()) as { data: LogRow[] }).data.find((r) => r.request_id === requestId);
			return row !== undefined;
		},
		{ timeoutMs: 15_000, what: `the row of ${requestId}` },
	);
	return row as LogRow;
}

describe("tracing on (OTEL_* environment)", () => {
	let receiver: OtlpReceiver;
	let gw: GatewayServer;
	beforeAll(async () => {
		receiver = new OtlpReceiver();
		gw = await startGatewayServer({
			env: {
				GATEWAY_CONFIG: writeConfig("on", "[telemetry]\npropagate_to_upstream = true"),
				GATEWAY_ADMIN_TOKEN: ADMIN,
				OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
				OTEL_EXPORTER_OTLP_HEADERS: `x-collector-token=${COLLECTOR_TOKEN}`,
				OTEL_SERVICE_NAME: "interchange-e2e",
				LOG_LEVEL: "warn",
			},
		});
	}, 60_000);
	afterAll(async () => {
		await gw?.cleanup();
		receiver?.stop();
	});

	test("a streamed chat that fails over once: server span, two attempts (the first in error), GenAI attributes, the row's tokens", async () => {
		const client = new OpenAI({ apiKey: KEY, baseURL: `${gw.url}/v1` });
		const { data: stream, response } = await client.chat.completions
			.create({
				model: "gpt-4o-mini",
				stream: true,
				stream_options: { include_usage: true },
				max_tokens: 40,
				messages: [{ role: "user", content: "trace me through the gateway" }],
			})
			.withResponse();
		let text = "";
		for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
		expect(text.length).toBeGreaterThan(0);
		const requestId = response.headers.get("x-request-id") as string;
		const row = await rowOf(gw, requestId);
		expect(row.attempts).toBe(2);
		expect(row.completion_tokens).toBeGreaterThan(0);

		// server, auth, admission, 2 attempts, stream, usage write
		const spans = await receiver.traceOf(row.request_id, 7);
		const server = spans.find((s) => s.kind === SPAN_KIND_SERVER) as OtlpSpan;
		expect(server.name).toBe("POST /v1/chat/completions");
		expect(server.parentSpanId || undefined).toBeUndefined();
		expect(attr(server, "http.response.status_code")).toBe(200);
		expect(attr(server, "gen_ai.operation.name")).toBe("chat");
		expect(attr(server, "gen_ai.provider.name")).toBe("openai");
		expect(attr(server, "gen_ai.system")).toBe("openai");
		expect(attr(server, "gen_ai.request.model")).toBe("gpt-4o-mini");
		expect(attr(server, "gen_ai.request.max_tokens")).toBe(40);
		expect(attr(server, "gen_ai.usage.input_tokens")).toBe(row.prompt_tokens);
		expect(attr(server, "gen_ai.usage.output_tokens")).toBe(row.completion_tokens);
		expect(attr(server, "interchange.attempts")).toBe(2);

		const children = spans.filter((s) => s.parentSpanId === server.spanId);
		expect(children.map((s) => s.name).sort()).toEqual(
			["admission", "auth", "chat gpt-4o-mini", "chat gpt-4o-mini", "stream", "usage write"].sort(),
		);
		const attempts = children.filter((s) => s.kind === SPAN_KIND_CLIENT);
		const failed = attempts.find((s) => attr(s, "interchange.account") === "broken") as OtlpSpan;
		const served = attempts.find((s) => attr(s, "interchange.account") === "healthy") as OtlpSpan;
		expect(failed.status?.code).toBe(STATUS_ERROR);
		expect(attr(failed, "http.response.status_code")).toBe(503);
		expect(attr(failed, "error.type")).toBe("UPSTREAM_SERVER_ERROR");
		expect(served.status?.code ?? 0).not.toBe(STATUS_ERROR);
		expect(attr(served, "http.response.status_code")).toBe(200);
		for (const a of attempts) {
			expect(attr(a, "interchange.provider")).toBe("pool");
			expect(attr(a, "gen_ai.request.model")).toBe("gpt-4o-mini");
		}
		const streamSpan = children.find((s) => s.name === "stream") as OtlpSpan;
		expect(streamSpan.events?.map((e) => e.name)).toContain("first token");
		expect(attr(streamSpan, "interchange.stream.completed")).toBe(true);

		// the attempt that answered was told its own span as parent (propagate_to_upstream = true)
		const upstream = mock.requests.filter((r) => r.apiKey === "acct-healthy" && r.headers.traceparent);
		const ids = upstream.map((r) => r.headers.traceparent?.split("-").slice(1, 3).join("-"));
		expect(ids).toContain(`${server.traceId}-${served.spanId}`);

		expect(receiver.serviceNames.has("interchange-e2e")).toBe(true);
		expect(receiver.posts.every((h) => h.get("x-collector-token") === COLLECTOR_TOKEN)).toBe(true);
	}, 30_000);

	test("a client's traceparent becomes the server span's parent", async () => {
		const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
		const parentId = "00f067aa0ba902b7";
		const res = await fetch(`${gw.url}/v1/chat/completions`, {
			method: "POST",
			headers: {
				authorization: `Bearer ${KEY}`,
				"content-type": "application/json",
				traceparent: `00-${traceId}-${parentId}-01`,
			},
			body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }),
		});
		expect(res.status).toBe(200);
		await res.arrayBuffer();
		const requestId = res.headers.get("x-request-id") as string;
		const row = await rowOf(gw, requestId);
		const spans = await receiver.traceOf(row.request_id, 5);
		const server = spans.find((s) => s.kind === SPAN_KIND_SERVER) as OtlpSpan;
		expect(server.traceId).toBe(traceId);
		expect(server.parentSpanId).toBe(parentId);
		expect(attr(server, "gen_ai.usage.input_tokens")).toBe(row.prompt_tokens);
	}, 30_000);
});

describe("tracing off", () => {
	test("OTEL_SDK_DISABLED=true with an endpoint set: nothing is sent, not even at shutdown", async () => {
		const receiver = new OtlpReceiver();
		const gw = await startGatewayServer({
			env: {
				GATEWAY_CONFIG: writeConfig("off", ""),
				OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
				OTEL_SDK_DISABLED: "true",
				LOG_LEVEL: "warn",
			},
		});
		try {
			const before = mock.requests.length;
			for (let i = 0; i < 5; i++) {
				const res = await fetch(`${gw.url}/v1/chat/completions`, {
					method: "POST",
					headers: {
						authorization: `Bearer ${KEY}`,
						"content-type": "application/json",
						traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
					},
					body: JSON.stringify({
						model: "gpt-4o-mini",
						stream: i % 2 === 0,
						messages: [{ role: "user", content: "hi" }],
					}),
				});
				expect(res.status).toBe(200);
				await res.arrayBuffer();
			}
			// a worker with tracing on exports what it holds when it stops: after a clean stop, silence is proof
			expect(await gw.stop("SIGTERM")).toBe(0);
			expect(receiver.posts.length).toBe(0);
			// and no traceparent of ours went upstream
			const sent = mock.requests.slice(before);
			// (the failing account is skipped once it is cooling down)
			expect(sent.length).toBeGreaterThanOrEqual(5);
			expect(sent.every((r) => r.headers.traceparent === undefined)).toBe(true);
		} finally {
			await gw.cleanup();
			receiver.stop();
		}
	}, 60_000);
});
