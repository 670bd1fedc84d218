import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Server } from "bun";
import OpenAI from "openai";
import { type GatewayServer, startGatewayServer } from "../support/gateway-server.ts";
import { type MockUpstream, startMockUpstream } from "../support/mock-upstream.ts";

/**
 * The seed gateways' own settings start Interchange unchanged: each server below is spawned
 * with exactly the variables the seed documents (../shared/seeds/000_… and 004_…), only the
 * upstream pointed at the mock and the port made free. Their base URLs have no version path,
 * as the seeds write them; requests must still reach the upstream's /v1 endpoints.
 */

let mock: MockUpstream;
/** The seed's platform-token-runtime: an RFC 7662-style token service. */
let tokenService: Server<unknown>;
const servers: GatewayServer[] = [];

beforeAll(async () => {
	mock = await startMockUpstream();
	tokenService = Bun.serve({
		port: 0,
		hostname: "127.0.0.1",
		async fetch(req) {
			const token = new URLSearchParams(await req.text()).get("token");
			return Response.json(token === "tok-seed-user" ? { active: true, sub: "seed-user" } : { active: false });
		},
	});
});

afterAll(async () => {
	for (const s of servers) await s.cleanup();
	tokenService?.stop(true);
	await mock?.stop();
});

async function start(env: Record<string, string>): Promise<GatewayServer> {
	const gw = await startGatewayServer({ env });
	servers.push(gw);
	return gw;
}

describe("seed 000 (lijiaoqiao gateway): its production environment", () => {
	let gw: GatewayServer;

	beforeAll(async () => {
		gw = await start({
			OPENAI_API_KEY: "sk-seed-000-upstream",
			OPENAI_BASE_URL: mock.url, // the seed's "https://api.openai.com": no /v1
			OPENAI_MODELS: "gpt-4,gpt-3.5-turbo",
			GATEWAY_ENV: "production",
			GATEWAY_TOKEN_RUNTIME_MODE: "remote_introspection",
			GATEWAY_TOKEN_RUNTIME_URL: `http://127.0.0.1:${tokenService.port}`,
			PASSWORD_ENCRYPTION_KEY: "32-byte-production-secret........",
			GATEWAY_CORS_ALLOW_ORIGINS: "https://console.example.com,https://app.example.com",
		});
	}, 60_000);

	test("starts in production, answers /health, and serves a token the token runtime vouches for", async () => {
		expect((await fetch(`${gw.url}/health`)).status).toBe(200);
		const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "tok-seed-user", maxRetries: 0 });
		mock.reset();
		const r = await client.chat.completions.create({ model: "gpt-4", messages: [{ role: "user", content: "hi" }] });
		expect(r.choices[0].message.content).toContain("echo: hi");
		expect(mock.requests.at(-1)?.path).toBe("/v1/chat/completions");
		expect(mock.requests.at(-1)?.apiKey).toBe("sk-seed-000-upstream");
		const refused = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "tok-unknown", maxRetries: 0 });
		expect(
			await refused.models.list().then(
				() => 0,
				(e) => e.status,
			),
		).toBe(401);
	});

	test("the CORS allowlist is the seed's; without an admin token the admin API is off", async () => {
		const preflight = (origin: string) =>
			fetch(`${gw.url}/v1/chat/completions`, {
				method: "OPTIONS",
				headers: { origin, "access-control-request-method": "POST" },
			}).then((r) => r.headers.get("access-control-allow-origin"));
		expect(await preflight("https://app.example.com")).toBe("https://app.example.com");
		expect(await preflight("https://evil.example")).not.toBe("https://evil.example");
		const admin = await fetch(`${gw.url}/admin/keys`, { headers: { "x-admin-token": "anything-long-enough-123" } });
		expect(admin.status).toBe(401);
		expect(((await admin.json()) as { error: { message: string } }).error.message).toContain("disabled");
	});
});

describe("seed 004 (go-aigateway): its .env names", () => {
	let gw: GatewayServer;

	beforeAll(async () => {
		gw = await start({
			GIN_MODE: "release",
			TARGET_API_URL: mock.url, // no version path: normalised to /v1
			TARGET_API_KEY: "sk-seed-004-target",
			GATEWAY_API_KEYS: "sk-gateway-key1,sk-gateway-key2",
			LOG_LEVEL: "info",
			LOG_FORMAT: "json",
			RATE_LIMIT_REQUESTS_PER_MINUTE: "3",
			HEALTH_CHECK_ENABLED: "true",
		});
	}, 60_000);

	test("health, then requests with either gateway key reach the target at /v1, sharing one rate limit", async () => {
		const health = await fetch(`${gw.url}/health`);
		expect(health.status).toBe(200);
		mock.reset();
		const chat = (key: string) =>
			fetch(`${gw.url}/v1/chat/completions`, {
				method: "POST",
				headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
				body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "Hello, how are you?" }] }),
			});
		const statuses = [];
		for (const key of ["sk-gateway-key1", "sk-gateway-key2", "sk-gateway-key1"])
			statuses.push((await chat(key)).status);
		expect(statuses).toEqual([200, 200, 200]);
		expect(mock.requests.map((r) => r.path)).toEqual(Array(3).fill("/v1/chat/completions"));
		expect(mock.requests.every((r) => r.apiKey === "sk-seed-004-target")).toBe(true);
		// the fourth request within the minute, whichever static key sends it
		const limited = await chat("sk-gateway-key2");
		expect(limited.status).toBe(429);
		expect(limited.headers.get("retry-after")).not.toBeNull();
		expect(((await limited.json()) as { error: { code: string } }).error.code).toBe("PLATFORM_RATE_LIMITED");
		expect(mock.requests.length).toBe(3);
	});
});
