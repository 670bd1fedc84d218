import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { type GatewayServer, startGatewayServer } from "../support/gateway-server.ts";
import { type MockUpstream, startMockUpstream } from "../support/mock-upstream.ts";
import { waitFor } from "../support/wait-for.ts";

/**
 * Model groups and pools end to end: the real server on two workers, an OpenAI-type mock whose
 * first account answers 503 to everything, an Anthropic-type mock, the real openai SDK.
 */

const KEY = "sk-model-groups-e2e";
const ADMIN = "admin-token-model-groups-0123456789";

let oaMock: MockUpstream;
let clMock: MockUpstream;
let gw: GatewayServer;
let client: OpenAI;

interface LogRow {
	request_id: string;
	requested_model: string | null;
	provider: string | null;
	model: string | null;
	account: string | null;
	status: number;
	stream: boolean;
	attempts: number;
}

beforeAll(async () => {
	[oaMock, clMock] = await Promise.all([startMockUpstream(), startMockUpstream()]);
	const dir = mkdtempSync(join(tmpdir(), "ix-model-groups-"));
	const config = join(dir, "gateway.toml");
	writeFileSync(
		config,
		`
[auth]
static_keys = ["${KEY}"]

[[providers]]
name = "oa"
type = "openai"
base_url = "${oaMock.url}/v1"
models = ["gpt-main", "pooled"]

  [[providers.accounts]]
  name = "oa-down"
  api_key = "k-oa-fail503"

[[providers]]
name = "oa-backup"
type = "openai"
base_url = "${oaMock.url}/v1"
models = ["pooled", "gpt-w"]

  [[providers.accounts]]
  name = "backup-1"
  api_key = "k-backup"

[[providers]]
name = "cl"
type = "anthropic"
base_url = "${clMock.url}/v1"
models = ["claude-main", "claude-w"]

  [[providers.accounts]]
  name = "cl-1"
  api_key = "ak-cl"

[[model_groups]]
name = "smart"
targets = ["oa/gpt-main", "cl/claude-main"]

[[model_groups]]
name = "spread"
strategy = "weighted"
targets = ["oa-backup/gpt-w", "cl/claude-w"]
weights = [3, 1]
`,
	);
	gw = await startGatewayServer({ workers: 2, env: { GATEWAY_CONFIG: config, GATEWAY_ADMIN_TOKEN: ADMIN } });
	client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY, maxRetries: 0 });
}, 60_000);

afterAll(async () => {
	await gw?.cleanup();
	await Promise.all([oaMock?.stop(), clMock?.stop()]);
});

const admin = (path: string, init: RequestInit = {}) =>
	fetch(`${gw.url}/admin${path}`, {
		...init,
		headers: { "x-admin-token": ADMIN, "content-type": "application/json" },
	});

async function rowOf(requestId: string | null | undefined): Promise<LogRow> {
	expect(requestId).toBeTruthy();
	let row: LogRow | undefined;
	await waitFor(
		async () => {
			const page = (await (await admin("/logs?limit=200")).json()) as { data: LogRow[] };
			row = page.data.find((r) => r.request_id === requestId);
			return row !== undefined;
		},
		{ what: `the usage row of ${requestId}` },
	);
	return row as LogRow;
}

const ask = (model: string, content: string) =>
	client.chat.completions.create({ model, messages: [{ role: "user", content }] });

describe("a model group whose first target's provider answers 503", () => {
	test("non-streaming: 200 from the second target over the Anthropic protocol; the row names it", async () => {
		const r = await ask("smart", "group fallback please");
		expect(r.choices[0].message.content).toContain("group fallback please");
		// the first target was really tried, over OpenAI, and the answer came over Anthropic
		expect(oaMock.requests.some((q) => q.path === "/v1/chat/completions" && q.body?.model === "gpt-main")).toBe(true);
		expect(clMock.requests.some((q) => q.path === "/v1/messages" && q.body?.model === "claude-main")).toBe(true);
		const row = await rowOf(r._request_id);
		expect(row).toMatchObject({
			requested_model: "smart",
			provider: "cl",
			model: "claude-main",
			account: "cl-1",
			status: 200,
		});
	});

	test("streaming: the SDK's stream comes whole from the second target; the row names it", async () => {
		const { data: stream, request_id } = await client.chat.completions
			.create({ model: "smart", stream: true, messages: [{ role: "user", content: "streamed fallback" }] })
			.withResponse();
		let text = "";
		for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
		expect(text).toContain("streamed fallback");
		const row = await rowOf(request_id);
		expect(row).toMatchObject({ requested_model: "smart", provider: "cl", model: "claude-main", stream: true });
	});
});

describe("spreading and pooling", () => {
	test("weighted 3:1 spreads the first pick exactly by weight per worker (29 to 31 of 40)", async () => {
		const before = { oa: oaMock.requests.length, cl: clMock.requests.length };
		for (let i = 0; i < 40; i++) await ask("spread", `spread ${i}`);
		const oa = oaMock.requests.slice(before.oa).filter((q) => q.body?.model === "gpt-w").length;
		const cl = clMock.requests.slice(before.cl).filter((q) => q.body?.model === "claude-w").length;
		expect(oa + cl).toBe(40);
		// each worker's rotation is exact over every cycle of 4: two workers are at most one off
		expect(oa).toBeGreaterThanOrEqual(29);
		expect(oa).toBeLessThanOrEqual(31);
	});

	test("a bare model listed by two providers fails over from the first to the second", async () => {
		const r = await ask("pooled", "pool me");
		expect(r.choices[0].message.content).toContain("pool me");
		const row = await rowOf(r._request_id);
		expect(row).toMatchObject({
			requested_model: "pooled",
			provider: "oa-backup",
			model: "pooled",
			account: "backup-1",
		});
	});

	test("/v1/models lists the groups beside the models", async () => {
		const ids = new Map<string, string>();
		for await (const m of client.models.list()) ids.set(m.id, m.owned_by);
		expect(ids.get("smart")).toBe("interchange");
		expect(ids.get("spread")).toBe("interchange");
		expect(ids.get("pooled")).toBe("oa");
		expect((await client.models.retrieve("smart")).owned_by).toBe("interchange");
	});
});

describe("groups made through the admin API", () => {
	test("reach every worker within a second, and leave them as fast", async () => {
		const created = await admin("/model-groups", {
			method: "POST",
			body: JSON.stringify({ name: "live", targets: ["cl/claude-main", "oa-backup/gpt-w"] }),
		});
		expect(created.status).toBe(201);
		// several requests in a row, spread over both workers by the kernel, all served
		const allServed = async () => {
			const answers = await Promise.all(
				Array.from({ length: 8 }, (_, i) => ask("live", `live ${i}`).catch(() => null)),
			);
			return answers.every((a) => a !== null);
		};
		await waitFor(allServed, { timeoutMs: 1_000, intervalMs: 20, what: "the new group on every worker" });

		expect((await admin("/model-groups/live", { method: "DELETE" })).status).toBe(200);
		const allGone = async () => {
			const codes = await Promise.all(
				Array.from({ length: 8 }, (_, i) =>
					ask("live", `gone ${i}`).then(
						() => 200,
						(e: InstanceType<typeof OpenAI.APIError>) => e.status,
					),
				),
			);
			return codes.every((c) => c === 404);
		};
		await waitFor(allGone, { timeoutMs: 1_000, intervalMs: 20, what: "the group gone from every worker" });
	});
});
