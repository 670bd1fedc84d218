import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { type GatewayServer, startGatewayServer } from "../support/gateway-server.ts";
import { type MockUpstream, startMockUpstream } from "../support/mock-upstream.ts";
import { waitFor } from "../support/wait-for.ts";

/** Routing end to end: failover across accounts, all-fail bounds, graceful drain. */

const KEY = "sk-routing-client";
const ADMIN = "admin-token-routing-0123456789";

let mock: MockUpstream;
beforeAll(async () => {
	mock = await startMockUpstream();
}, 60_000);
afterAll(async () => {
	await mock?.stop();
});

function configFile(body: string): string {
	const dir = mkdtempSync(join(tmpdir(), "ix-routing-"));
	const path = join(dir, "gateway.toml");
	writeFileSync(path, body);
	return path;
}

describe("failover across accounts", () => {
	let gw: GatewayServer;
	beforeAll(async () => {
		const config = configFile(`
[auth]
static_keys = ["${KEY}"]

[routing]
strategy = "round_robin"
max_account_switches = 3

[[providers]]
name = "pool"
type = "openai"
base_url = "${mock.url}/v1"
models = ["gpt-4o-mini"]
  [[providers.accounts]]
  name = "healthy"
  api_key = "acct-healthy"
  [[providers.accounts]]
  name = "broken"
  api_key = "acct-fail503"
  [[providers.accounts]]
  name = "throttled"
  api_key = "acct-fail429"

[[providers]]
name = "doomed"
type = "openai"
base_url = "${mock.url}/v1"
models = ["doomed-model"]
  [[providers.accounts]]
  name = "a"
  api_key = "d1-fail503"
  [[providers.accounts]]
  name = "b"
  api_key = "d2-fail500"
  [[providers.accounts]]
  name = "c"
  api_key = "d3-fail503"
  [[providers.accounts]]
  name = "d"
  api_key = "d4-fail502"
  [[providers.accounts]]
  name = "e"
  api_key = "d5-fail503"
`);
		gw = await startGatewayServer({ workers: 2, env: { GATEWAY_CONFIG: config, GATEWAY_ADMIN_TOKEN: ADMIN } });
	}, 60_000);
	afterAll(async () => {
		await gw?.cleanup();
	});

	test("one healthy, one 503, one 429 (retry-after 2): 400 requests at concurrency 10, half streamed, all succeed", async () => {
		mock.reset();
		const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY, maxRetries: 0 });
		let next = 0;
		let ok = 0;
		const run = async () => {
			while (next < 400) {
				const i = next++;
				if (i % 2 === 0) {
					const r = await client.chat.completions.create({
						model: "gpt-4o-mini",
						messages: [{ role: "user", content: `n ${i}` }],
					});
					if (r.choices[0].message.content?.includes(`n ${i}`)) ok++;
				} else {
					const s = await client.chat.completions.create({
						model: "gpt-4o-mini",
						stream: true,
						messages: [{ role: "user", content: `s ${i}` }],
					});
					let text = "";
					for await (const c of s) text += c.choices[0]?.delta?.content ?? "";
					if (text.includes(`s ${i}`)) ok++;
				}
			}
		};
		await Promise.all(Array.from({ length: 10 }, run));
		expect(ok).toBe(400);
		expect(mock.countByKey("acct-healthy")).toBe(400);
		expect(mock.countByKey("acct-fail503")).toBeLessThanOrEqual(20);
		expect(mock.countByKey("acct-fail429")).toBeLessThanOrEqual(20);
		expect(mock.countByKey("acct-fail503")).toBeGreaterThan(0);

		const providers = await fetch(`${gw.url}/metrics`).then((r) => r.text());
		expect(providers).toMatch(/interchange_account_ejections_total\{provider="pool",account="broken"\} [1-9]/);
		expect(providers).toMatch(/interchange_account_cooldowns_total\{provider="pool",account="throttled"\} [1-9]/);
	}, 60_000);

	test("when every account fails: at most 1 + max_account_switches attempts and an OpenAI-shaped 5xx", async () => {
		mock.reset();
		const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY, maxRetries: 0 });
		const err = await client.chat.completions
			.create({ model: "doomed-model", messages: [{ role: "user", content: "x" }] })
			.catch((e) => e);
		expect(err).toBeInstanceOf(OpenAI.InternalServerError);
		expect([502, 503]).toContain(err.status);
		expect(err.code).toMatch(/^UPSTREAM_/);
		expect(err.error.request_id).toBe(err.requestID);
		const attempts = mock.requests.filter((r) => r.path === "/v1/chat/completions").length;
		// five fresh accounts, max_account_switches = 3: exactly four tries, then the error
		expect(attempts).toBe(4);
		expect(err.status).toBe(502);
	});
});

describe("graceful drain", () => {
	test("SIGTERM while 10 ten-second streams are open: all complete with [DONE], then the process exits", async () => {
		// drip1000 × 10 words ≈ 10 s per stream
		const gw = await startGatewayServer({
			workers: 2,
			env: {
				OPENAI_BASE_URL: `${mock.url}/v1`,
				OPENAI_API_KEY: "k-drip1000",
				OPENAI_MODELS: "gpt-4o-mini",
				GATEWAY_API_KEYS: KEY,
			},
		});
		try {
			const started = mock.activeStreams;
			const streams = Array.from({ length: 10 }, async (_, i) => {
				const res = await fetch(`${gw.url}/v1/chat/completions`, {
					method: "POST",
					headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
					body: JSON.stringify({
						model: "gpt-4o-mini",
						stream: true,
						max_tokens: 10,
						messages: [{ role: "user", content: `drain ${i}` }],
					}),
				});
				return await res.text();
			});
			await mock.waitFor(() => mock.activeStreams >= started + 10, 5_000, "10 open streams");
			const t0 = performance.now();
			gw.proc.kill("SIGTERM");
			// readiness flips at once while the streams run on; new work is refused with a retryable 503
			await waitFor(async () => (await fetch(`${gw.url}/readyz`)).status === 503, {
				timeoutMs: 1_000,
				what: "/readyz 503",
			});
			const late = await fetch(`${gw.url}/v1/chat/completions`, {
				method: "POST",
				headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
				body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "late" }] }),
			});
			expect(late.status).toBe(503);
			expect(((await late.json()) as { error: { code: string } }).error.code).toBe("PLATFORM_SHUTTING_DOWN");
			const bodies = await Promise.all(streams);
			for (const b of bodies) expect(b.trimEnd().endsWith("data: [DONE]")).toBe(true);
			expect(await gw.proc.exited).toBe(0);
			expect(performance.now() - t0).toBeGreaterThan(3_000);
		} finally {
			await gw.cleanup();
		}
	}, 60_000);
});
