import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import { countTokens } from "gpt-tokenizer/encoding/o200k_base";
import OpenAI from "openai";
import type { LogRow } from "../../src/admin/usage-queries.ts";
import { type GatewayServer, startGatewayServer } from "../support/gateway-server.ts";
import { type MockUpstream, startMockUpstream } from "../support/mock-upstream.ts";
import { waitFor } from "../support/wait-for.ts";

/** Usage the ledger can bill from: aborted streams are estimated, bad token counts are normalised. */

const ADMIN = "admin-token-billing-0123456789ab";
const STATIC_KEY = "sk-billing-static";
const STORY = "tell me a long story about a lighthouse keeper who counts the waves every night";

let mock: MockUpstream;
let dir: string;
const gateways: GatewayServer[] = [];

/** The toml shared by both gateways; `held` answers every content chunk and then never sends usage. */
function writeConfig(): string {
	const path = join(dir, "gateway.toml");
	writeFileSync(
		path,
		`
[auth]
static_keys = ["${STATIC_KEY}"]

[[providers]]
name = "held"
type = "openai"
base_url = "${mock.url}/v1"
models = ["gpt-4o-mini"]
api_key = "up-holdUsage"

[[providers]]
name = "dripping"
type = "openai"
base_url = "${mock.url}/v1"
models = ["gpt-4o"]
api_key = "up-drip20"

[[providers]]
name = "claude"
type = "anthropic"
base_url = "${mock.url}/v1"
models = ["claude-frac"]
api_key = "ak-fracUsage"

[[prices]]
model = "gpt-4o-mini"
input = 1.0
output = 2.0
`,
	);
	return path;
}

async function startGateway(extraEnv: Record<string, string> = {}): Promise<GatewayServer> {
	const gw = await startGatewayServer({
		env: {
			GATEWAY_CONFIG: join(dir, "gateway.toml"),
			GATEWAY_ADMIN_TOKEN: ADMIN,
			GATEWAY_ENCRYPTION_KEY: "b".repeat(64),
			LOG_LEVEL: "warn",
			...extraEnv,
		},
	});
	gateways.push(gw);
	return gw;
}

async function admin<T>(gw: GatewayServer, method: string, path: string, body?: unknown): Promise<T> {
	const res = await fetch(`${gw.url}${path}`, {
		method,
		headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	expect(res.status).toBeLessThan(300);
	return (await res.json()) as T;
}

async function rowsOf(gw: GatewayServer, query: string, count: number): Promise<LogRow[]> {
	let rows: LogRow[] = [];
	await waitFor(
		async () => {
			rows = (await admin<{ data: LogRow[] }>(gw, "GET", `/admin/logs?limit=500&${query}`)).data;
			return rows.length >= count;
		},
		{ timeoutMs: 15_000, what: `${count} rows for ${query}` },
	);
	return rows;
}

const metric = (text: string, name: string): number => {
	const m = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
	if (!m) throw new Error(`metric ${name} missing`);
	return Number(m[1]);
};

/** Reads a stream until its last content chunk (finish_reason), then leaves: the usage chunk is never read. */
async function streamAndLeave(client: OpenAI, model: string): Promise<string> {
	const stream = await client.chat.completions.create({
		model,
		stream: true,
		messages: [{ role: "user", content: STORY }],
	});
	let content = "";
	for await (const chunk of stream) {
		content += chunk.choices[0]?.delta?.content ?? "";
		if (chunk.choices[0]?.finish_reason) break;
	}
	return content;
}

beforeAll(async () => {
	mock = await startMockUpstream();
	dir = mkdtempSync(join(tmpdir(), "ix-billing-"));
	writeConfig();
}, 30_000);

afterAll(async () => {
	for (const gw of gateways) await gw.cleanup();
	await mock?.stop();
	rmSync(dir, { recursive: true, force: true });
}, 30_000);

describe("billing: on_client_abort = cancel (the default)", () => {
	let gw: GatewayServer;
	beforeAll(async () => {
		gw = await startGateway();
	}, 60_000);

	test("a stream left after its last content chunk, before the usage chunk, is billed an estimate", async () => {
		const key = await admin<{ id: string; key: string }>(gw, "POST", "/admin/keys", {
			tenant_id: "billing",
			quota_daily_tokens: 100_000,
			budget_usd: 1,
		});
		const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key.key, maxRetries: 0 });
		const content = await streamAndLeave(client, "held/gpt-4o-mini");
		expect(content.split(" ").length).toBeGreaterThan(10);
		await mock.waitFor(() => mock.cancelledStreams >= 1, 10_000, "the upstream stream to be cancelled");

		const [row] = await rowsOf(gw, `key_id=${key.id}`, 1);
		expect(row).toMatchObject({ status: 499, usage_source: "estimated", incomplete: true, stream: true });
		const truth = countTokens(content);
		expect(Math.abs(Number(row?.completion_tokens) - truth)).toBeLessThanOrEqual(Math.ceil(truth * 0.1));
		expect(Number(row?.prompt_tokens)).toBeGreaterThan(countTokens(STORY));
		expect(Number(row?.cost_usd)).toBeGreaterThan(0);

		// the key's quota and budget were charged with the estimate (live counters, settled)
		const view = await admin<{ usage: { requests_today: number; tokens_today: number; spent_usd: number } }>(
			gw,
			"GET",
			`/admin/keys/${key.id}`,
		);
		expect(view.usage.tokens_today).toBe(Number(row?.total_tokens));
		expect(view.usage.spent_usd).toBeCloseTo(Number(row?.cost_usd), 12);
	}, 30_000);

	test("an upstream reporting 1.5 tokens: the row lands rounded, and 100 rows after it land without spooling", async () => {
		const anthropic = new Anthropic({ baseURL: gw.url, apiKey: STATIC_KEY, maxRetries: 0 });
		const first = await anthropic.messages.create({
			model: "claude-frac",
			max_tokens: 5,
			messages: [{ role: "user", content: "hi" }],
		});
		// the client sees what the upstream said; the ledger stores whole numbers
		expect(first.usage.input_tokens).toBe(4.5);
		const openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: STATIC_KEY, maxRetries: 0 });
		for (let i = 0; i < 100; i += 10) {
			await Promise.all(
				Array.from({ length: 10 }, (_, j) =>
					openai.chat.completions.create({
						model: "claude-frac",
						max_tokens: 3,
						stream: (i + j) % 2 === 0,
						messages: [{ role: "user", content: "hi" }],
					}),
				).map(async (p) => {
					const r = await p;
					if ("controller" in r) for await (const _ of r) void _;
				}),
			);
		}
		const rows = await rowsOf(gw, "model=claude-frac", 101);
		expect(rows.length).toBe(101);
		expect(rows.every((r) => r.status === 200 && r.prompt_tokens === 5 && r.usage_source === "upstream")).toBe(true);
		const metrics = await (await fetch(`${gw.url}/metrics`)).text();
		expect(metric(metrics, "interchange_audit_rows_spooled_total")).toBe(0);
		expect(metric(metrics, "interchange_audit_spool_pending_rows")).toBe(0);
		expect(metric(metrics, "interchange_audit_rows_dead_lettered_total")).toBe(0);
		expect(metric(metrics, "interchange_audit_database_down")).toBe(0);
	}, 60_000);
});

describe("billing: on_client_abort = finish", () => {
	let gw: GatewayServer;
	beforeAll(async () => {
		gw = await startGateway({ GATEWAY_ON_CLIENT_ABORT: "finish" });
	}, 60_000);

	test("a client that leaves mid-stream: the upstream is read to its end and its own usage billed", async () => {
		const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: STATIC_KEY, maxRetries: 0 });
		const cancelledBefore = mock.cancelledStreams;
		const completedBefore = mock.completedStreams;
		const stream = await client.chat.completions.create({
			model: "dripping/gpt-4o",
			stream: true,
			messages: [{ role: "user", content: STORY }],
		});
		let chunks = 0;
		for await (const _ of stream) if (++chunks === 3) break;
		await mock.waitFor(() => mock.completedStreams > completedBefore, 15_000, "the upstream stream to finish");
		expect(mock.cancelledStreams).toBe(cancelledBefore);
		const [row] = await rowsOf(gw, "model=gpt-4o", 1);
		expect(row).toMatchObject({ status: 499, usage_source: "upstream", incomplete: true });
		// the mock's own count: one token per word of "echo: <story>"
		expect(row?.completion_tokens).toBe(STORY.split(" ").length + 1);
	}, 30_000);
});
