import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { type GatewayServer, startGatewayServer } from "../support/gateway-server.ts";
import { type MockUpstream, startMockUpstream } from "../support/mock-upstream.ts";
import { waitFor } from "../support/wait-for.ts";

/** An account an upstream 401 disabled comes back: settings change, delete + re-add, admin re-enable. */

const KEY = "sk-recovery-client";
const ADMIN = "admin-token-recovery-0123456789";

let mock: MockUpstream;
let gw: GatewayServer;
let client: OpenAI;

// biome-ignore lint/suspicious/noExplicitAny: admin answers are read as loose JSON in tests
async function admin(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
	const res = await fetch(`${gw.url}/admin${path}`, {
		method,
		headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	return { status: res.status, json: await res.json() };
}

const ask = (model: string) =>
	client.chat.completions.create({ model, messages: [{ role: "user", content: "hello there" }] });
const failure = (model: string) =>
	ask(model).then(
		() => null,
		(e) => e as InstanceType<typeof OpenAI.APIError>,
	);

/** The upstream refuses the key once (the account is disabled), then accepts it again. */
async function disable(model: string): Promise<void> {
	mock.setBehavior("fail401");
	expect((await failure(model))?.code).toBe("UPSTREAM_AUTH_FAILED");
	mock.setBehavior(null);
	// the upstream is fine again, but the account stays out until something brings it back
	expect((await failure(model))?.code).toBe("UPSTREAM_NO_ACCOUNT");
}

beforeAll(async () => {
	mock = await startMockUpstream();
	gw = await startGatewayServer({
		workers: 2,
		env: {
			OPENAI_BASE_URL: `${mock.url}/v1`,
			OPENAI_API_KEY: "k-config-account",
			OPENAI_MODELS: "gpt-4o-mini",
			GATEWAY_API_KEYS: KEY,
			GATEWAY_ADMIN_TOKEN: ADMIN,
		},
	});
	client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY, maxRetries: 0 });
	expect(
		(await admin("POST", "/providers", { name: "rt", base_url: `${mock.url}/v1`, models: ["rt-model"] })).status,
	).toBe(201);
	expect((await admin("POST", "/providers/rt/accounts", { name: "a", api_key: "acct-a" })).status).toBe(201);
	// every worker has loaded it
	let streak = 0;
	await waitFor(
		async () => {
			streak = (await failure("rt-model")) === null ? streak + 1 : 0;
			return streak >= 6;
		},
		{ timeoutMs: 10_000, what: "rt-model served by every worker" },
	);
}, 60_000);
afterAll(async () => {
	await gw?.cleanup();
	await mock?.stop();
});

describe("an account disabled by an upstream 401", () => {
	test("shows its state in the admin view and /metrics, and the disable is logged once with its reason", async () => {
		await disable("rt-model");
		const view = await admin("GET", "/providers/rt");
		const status = view.json.accounts[0].live.status;
		expect(status.state).toBe("disabled");
		expect(status.reason).toBe("upstream_401");
		expect(Date.parse(status.since)).toBeLessThanOrEqual(Date.now());
		const metrics = await fetch(`${gw.url}/metrics`).then((r) => r.text());
		expect(metrics).toContain('interchange_account_state{provider="rt",account="a",state="disabled"} 1');
		expect(metrics).toContain('interchange_account_state{provider="rt",account="a",state="healthy"} 0');
		const lines = gw
			.output()
			.split("\n")
			.filter((l) => l.includes("upstream account disabled"));
		expect(lines).toHaveLength(1);
		expect(lines[0]).toContain('"reason":"upstream_401"');
		expect(lines[0]).not.toContain("acct-a");
		// leave it in service for the next test
		await admin("POST", "/providers/rt/accounts/a/enable");
	});

	test("recovers when its settings change through the admin API", async () => {
		await disable("rt-model");
		expect((await admin("PATCH", "/providers/rt/accounts/a", { enabled: true })).status).toBe(200);
		expect(await failure("rt-model")).toBeNull();
	});

	test("recovers when it is deleted and re-added under the same name", async () => {
		await disable("rt-model");
		expect((await admin("DELETE", "/providers/rt/accounts/a")).status).toBe(200);
		expect((await admin("POST", "/providers/rt/accounts", { name: "a", api_key: "acct-a" })).status).toBe(201);
		expect(await failure("rt-model")).toBeNull();
	});

	test("recovers through an explicit admin re-enable, config-file accounts too", async () => {
		await disable("rt-model");
		const r = await admin("POST", "/providers/rt/accounts/a/enable");
		expect(r.status).toBe(200);
		expect(r.json.was_disabled).toBe(true);
		expect(r.json.status.state).toBe("healthy");
		expect(await failure("rt-model")).toBeNull();

		await disable("gpt-4o-mini");
		expect((await admin("POST", "/providers/openai/accounts/default/enable")).json.was_disabled).toBe(true);
		expect(await failure("gpt-4o-mini")).toBeNull();

		const missing = await admin("POST", "/providers/rt/accounts/nope/enable");
		expect(missing.status).toBe(404);
		expect(missing.json.error.code).toBe("PLATFORM_NOT_FOUND");
	});
});
