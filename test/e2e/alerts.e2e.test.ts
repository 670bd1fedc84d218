import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { type GatewayServer, startGatewayServer } from "../support/gateway-server.ts";
import { type MockUpstream, startMockUpstream } from "../support/mock-upstream.ts";
import { waitFor } from "../support/wait-for.ts";

const ADMIN = "e2e-admin-token-alerts-0123456789";
const SIGNING_SECRET = "alerts-signing-secret";
/** Failed answers the Slack-shaped receiver gives before it accepts. */
const SLACK_FAILURES = 2;
const RETRY_BASE_MS = 200;

interface Received {
	path: string;
	headers: Record<string, string>;
	raw: string;
	body: Record<string, unknown>;
	at: number;
}

let mock: MockUpstream;
let gw: GatewayServer;
let receiver: ReturnType<typeof Bun.serve>;
const received: Received[] = [];
let dir: string;

beforeAll(async () => {
	mock = await startMockUpstream();
	let slackCalls = 0;
	receiver = Bun.serve({
		port: 0,
		hostname: "127.0.0.1",
		async fetch(req) {
			const raw = await req.text();
			const path = new URL(req.url).pathname;
			received.push({ path, headers: Object.fromEntries(req.headers), raw, body: JSON.parse(raw), at: Date.now() });
			if (path === "/slack" && ++slackCalls <= SLACK_FAILURES) return new Response("busy", { status: 500 });
			return new Response("ok");
		},
	});
	dir = mkdtempSync(join(tmpdir(), "ix-alerts-"));
	const hook = `http://127.0.0.1:${receiver.port}`;
	writeFileSync(
		join(dir, "gateway.toml"),
		`
[[providers]]
name = "openai"
type = "openai"
base_url = "${mock.url}/v1"
models = ["priced-x"]
api_key = "sk-upstream-ok"

[[providers]]
name = "bad"
type = "openai"
base_url = "${mock.url}/v1"
models = ["bad-model"]
api_key = "sk-fail401-upstream"

[[prices]]
model = "priced-x"
input = 0
output = 10000

[[alerts]]
url = "${hook}/json"
secret = "${SIGNING_SECRET}"

[[alerts]]
url = "${hook}/slack"
format = "slack"
events = ["account_disabled"]

[alerts_policy]
interval_ms = 100
retry_base_ms = ${RETRY_BASE_MS}
`,
	);
	gw = await startGatewayServer({
		workers: 2,
		env: {
			GATEWAY_CONFIG: join(dir, "gateway.toml"),
			GATEWAY_ADMIN_TOKEN: ADMIN,
			GATEWAY_ENCRYPTION_KEY: "d".repeat(64),
			LOG_LEVEL: "warn",
		},
	});
}, 60_000);

afterAll(async () => {
	await gw?.cleanup();
	await mock?.stop();
	receiver?.stop(true);
	if (dir) rmSync(dir, { recursive: true, force: true });
}, 30_000);

async function admin<T = Record<string, unknown>>(method: string, path: string, body?: unknown) {
	const res = await fetch(`${gw.url}/admin${path}`, {
		method,
		headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	return { status: res.status, json: (await res.json()) as T };
}

const evaluations = async (): Promise<number> => {
	const text = await (await fetch(`${gw.url}/metrics`)).text();
	return Number(/^interchange_alert_evaluations_total (\d+)/m.exec(text)?.[1] ?? 0);
};

/** Lets the evaluator run `n` more times: what it would still send (a duplicate) has been sent by then. */
async function afterEvaluations(n: number): Promise<void> {
	const from = await evaluations();
	await waitFor(async () => (await evaluations()) >= from + n, { what: `${n} more alert evaluations` });
}

const jsonAlerts = (event: string) =>
	received
		.filter((r) => r.path === "/json" && r.body.event === event)
		.map((r) => r.body as Record<string, unknown> & { details: Record<string, unknown> });

describe("alerts by webhook", () => {
	test("a key with a $1 budget driven past 80% gets exactly one 50% and one 80% alert across 2 HTTP workers", async () => {
		const created = await admin<{ id: string; key: string }>("POST", "/keys", { tenant_id: "alerts", budget_usd: 1 });
		expect(created.status).toBe(201);
		const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: created.json.key, maxRetries: 0 });
		// 30 completion tokens at $10,000/M = $0.30 a request: 30%, 60%, 90%, then the budget refuses
		const outcomes: string[] = [];
		for (let i = 0; i < 4; i++) {
			try {
				await client.chat.completions.create({
					model: "priced-x",
					messages: [{ role: "user", content: "hi" }],
					max_tokens: 30,
				});
				outcomes.push("ok");
			} catch (e) {
				outcomes.push((e as InstanceType<typeof OpenAI.APIError>).code ?? "error");
			}
		}
		expect(outcomes.slice(0, 3)).toEqual(["ok", "ok", "ok"]);
		expect(outcomes[3]).toBe("PLATFORM_BUDGET_EXCEEDED");

		const subject = `key:${created.json.id}`;
		const mine = () => jsonAlerts("budget").filter((a) => a.details.subject === subject);
		await waitFor(() => mine().some((a) => a.details.level === 80), { what: "the 80% budget alert" });
		await afterEvaluations(10);
		expect(mine().map((a) => a.details.level)).toEqual([50, 80]);
		const eighty = mine().find((a) => a.details.level === 80) as { details: Record<string, unknown>; severity: string };
		expect(eighty.details.spent_usd).toBeCloseTo(0.9, 6);
		expect(eighty.details.budget_usd).toBe(1);
		expect(eighty.severity).toBe("warning");
		// signed with the webhook's secret
		for (const r of received.filter((x) => x.path === "/json")) {
			const expected = `sha256=${createHmac("sha256", SIGNING_SECRET).update(r.raw).digest("hex")}`;
			expect(r.headers["x-interchange-signature"]).toBe(expected);
		}
	}, 30_000);

	test("an account disabled by an upstream 401 gets one alert; a failing webhook is retried with backoff", async () => {
		const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "unused", maxRetries: 0 });
		const key = await admin<{ key: string }>("POST", "/keys", { tenant_id: "alerts" });
		const c = new OpenAI({ baseURL: client.baseURL, apiKey: key.json.key, maxRetries: 0 });
		for (let i = 0; i < 3; i++) {
			await c.chat.completions
				.create({ model: "bad-model", messages: [{ role: "user", content: "hi" }] })
				.catch(() => {});
		}
		await waitFor(() => jsonAlerts("account_disabled").length > 0, { what: "the account_disabled alert" });
		const slack = () => received.filter((r) => r.path === "/slack");
		await waitFor(() => slack().length >= SLACK_FAILURES + 1, {
			what: "the Slack webhook's retries",
			timeoutMs: 15_000,
		});
		await afterEvaluations(10);

		const disabled = jsonAlerts("account_disabled");
		expect(disabled.length).toBe(1);
		expect(disabled[0]?.details).toMatchObject({ account: "bad/default", status: 401 });

		// one alert, three attempts (two refused), the same alert id each time, waits doubling
		const attempts = slack();
		expect(attempts.length).toBe(SLACK_FAILURES + 1);
		expect(new Set(attempts.map((a) => a.headers["x-interchange-alert-id"])).size).toBe(1);
		expect(attempts[0]?.headers["x-interchange-alert-id"]).toBe(disabled[0]?.id as string);
		expect(attempts.map((a) => a.headers["x-interchange-alert-attempt"])).toEqual(["1", "2", "3"]);
		const gap1 = (attempts[1]?.at ?? 0) - (attempts[0]?.at ?? 0);
		const gap2 = (attempts[2]?.at ?? 0) - (attempts[1]?.at ?? 0);
		expect(gap1).toBeGreaterThanOrEqual(RETRY_BASE_MS);
		expect(gap2).toBeGreaterThanOrEqual(2 * RETRY_BASE_MS);
		// Slack's incoming-webhook shape; only the event it asked for
		const body = attempts[0]?.body as { text: string; blocks: { type: string }[] };
		expect(body.text).toContain("bad/default");
		expect(body.blocks[0]?.type).toBe("header");
		expect(received.filter((r) => r.path === "/slack" && !String(r.body.text).includes("disabled")).length).toBe(0);
	}, 30_000);

	test("/admin/alerts stores webhooks with masked secrets and lists the file's as read-only", async () => {
		const created = await admin<{ id: string; secret: string; events: string[] | null; source: string }>(
			"POST",
			"/alerts",
			{
				url: "http://127.0.0.1:9/hook",
				events: ["budget"],
				secret: "abcdefgh-very-secret-1234",
			},
		);
		expect(created.status).toBe(201);
		expect(created.json.secret).toBe("abcdefgh-…1234");
		expect(created.json.source).toBe("admin");
		const list = await admin<{ data: { id: string; source: string; secret: string | null }[] }>("GET", "/alerts");
		expect(list.json.data.map((w) => w.source)).toEqual(["config", "config", "admin"]);
		expect(JSON.stringify(list.json)).not.toContain(SIGNING_SECRET);
		expect(JSON.stringify(list.json)).not.toContain("very-secret");
		const patched = await admin<{ format: string }>("PATCH", `/alerts/${created.json.id}`, { format: "slack" });
		expect(patched.json.format).toBe("slack");
		expect((await admin("PATCH", "/alerts/config:0", { format: "slack" })).status).toBe(400);
		const bad = await admin<{ error: { code: string; message: string } }>("POST", "/alerts", {
			url: "ftp://x",
			events: ["nope"],
		});
		expect(bad.status).toBe(400);
		expect(bad.json.error.code).toBe("PLATFORM_INVALID_REQUEST");
		expect((await admin("DELETE", `/alerts/${created.json.id}`)).status).toBe(200);
		expect((await admin("GET", `/alerts/${created.json.id}`)).status).toBe(404);
	});
});
