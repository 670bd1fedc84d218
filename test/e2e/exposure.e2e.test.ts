import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { freePort } from "../support/free-port.ts";
import {
	freshDatabaseUrl,
	type GatewayServer,
	runGatewayToExit,
	startGatewayServer,
} from "../support/gateway-server.ts";
import { type MockUpstream, startMockUpstream } from "../support/mock-upstream.ts";
import { startTcpProxy } from "../support/tcp-proxy.ts";
import { waitFor } from "../support/wait-for.ts";

/** What the gateway shows of itself: its startup log, its port, /metrics and /readyz. */

describe("startup log", () => {
	test("the database password never reaches the log, whether in the user info (with an @) or as ?password=", async () => {
		const dataDir = mkdtempSync(join(tmpdir(), "ix-redact-"));
		try {
			// port 1 refuses at once: the gateway logs the URL it uses, then fails to connect
			const { code, output } = await runGatewayToExit({
				PORT: String(await freePort()),
				GATEWAY_DATA_DIR: dataDir,
				DATABASE_URL: "postgres://gw:pa@ss-Secret1@127.0.0.1:1/gw?password=Hunter2Secret&sslmode=disable",
			});
			expect(code).not.toBe(0);
			expect(output).toContain("using Postgres");
			expect(output).toContain("postgres://gw:***@127.0.0.1:1/gw?password=***&sslmode=disable");
			expect(output).not.toContain("Secret1");
			expect(output).not.toContain("Hunter2Secret");
		} finally {
			rmSync(dataDir, { recursive: true, force: true });
		}
	}, 60_000);
});

const KEY = "sk-exposure-e2e";
const METRICS_TOKEN = "metrics-token-exposure-0123456789";

let mock: MockUpstream;
beforeAll(async () => {
	mock = await startMockUpstream({ fast: true });
}, 60_000);
afterAll(async () => {
	await mock?.stop();
});

describe("/metrics", () => {
	let gw: GatewayServer;
	beforeAll(async () => {
		const dir = mkdtempSync(join(tmpdir(), "ix-metrics-"));
		const config = join(dir, "gateway.toml");
		writeFileSync(
			config,
			`
[auth]
static_keys = ["${KEY}"]

[[providers]]
name = "openai"
type = "openai"
base_url = "${mock.url}/v1"
models = ["gpt-4o-mini"]
api_key = "sk-upstream"

# no model list: any "anything/<model>" is accepted and sent upstream as it is
[[providers]]
name = "anything"
type = "openai"
base_url = "${mock.url}/v1"
api_key = "sk-upstream"
`,
		);
		gw = await startGatewayServer({ env: { GATEWAY_CONFIG: config, GATEWAY_METRICS_TOKEN: METRICS_TOKEN } });
	}, 60_000);
	afterAll(async () => {
		await gw?.cleanup();
	});

	const scrape = (token: string | null) =>
		fetch(`${gw.url}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

	test("with a metrics token, /metrics wants it", async () => {
		const none = await scrape(null);
		expect(none.status).toBe(401);
		expect(((await none.json()) as { error: { code: string } }).error.code).toBe("PLATFORM_METRICS_UNAUTHORIZED");
		expect((await scrape("wrong-token")).status).toBe(401);
		const ok = await scrape(METRICS_TOKEN);
		expect(ok.status).toBe(200);
		expect(await ok.text()).toContain("# TYPE interchange_audit_queue_depth gauge");
	});

	test('25,000 made-up model names leave /metrics under 1 MB: they count under model="other"', async () => {
		const total = 25_000;
		let next = 0;
		let served = 0;
		const send = async () => {
			while (next < total) {
				const i = next++;
				const res = await fetch(`${gw.url}/v1/chat/completions`, {
					method: "POST",
					headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
					body: JSON.stringify({
						model: `anything/${crypto.randomUUID()}-${i}`,
						messages: [{ role: "user", content: "hi" }],
					}),
				});
				await res.arrayBuffer();
				if (res.status === 200) served++;
			}
		};
		await Promise.all(Array.from({ length: 32 }, send));
		expect(served).toBe(total);
		const known = await fetch(`${gw.url}/v1/chat/completions`, {
			method: "POST",
			headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
			body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }),
		});
		expect(known.status).toBe(200);
		await known.arrayBuffer();

		const text = await (await scrape(METRICS_TOKEN)).text();
		expect(Buffer.byteLength(text)).toBeLessThan(1024 * 1024);
		expect(text).toMatch(
			new RegExp(
				`interchange_requests_total\\{route="/v1/chat/completions",model="other",provider="anything",status="200"\\} ${total}\\b`,
			),
		);
		// the latency histograms (by model and provider) are bounded the same way
		expect(text).toContain(
			`interchange_request_duration_seconds_count{route="/v1/chat/completions",model="other",provider="anything"} ${total}`,
		);
		// configured models keep their own series
		expect(text).toContain(
			'interchange_requests_total{route="/v1/chat/completions",model="gpt-4o-mini",provider="openai",status="200"} 1',
		);
	}, 120_000);
});

describe("the listening port", () => {
	const quickStart = (port: number, dataDir: string) => ({
		PORT: String(port),
		GATEWAY_DATA_DIR: dataDir,
		GATEWAY_HTTP_WORKERS: "2",
		GATEWAY_API_KEYS: KEY,
		OPENAI_BASE_URL: `${mock.url}/v1`,
		OPENAI_API_KEY: "sk-upstream",
		OPENAI_MODELS: "gpt-4o-mini",
		BUN_CONFIG_MAX_HTTP_REQUESTS: "65535",
	});

	test("a port a stranger holds (with SO_REUSEPORT, so it could share) is a startup error naming the port", async () => {
		const stranger = Bun.serve({
			port: 0,
			hostname: "127.0.0.1",
			reusePort: true,
			fetch: () => new Response("stranger"),
		});
		const dataDir = mkdtempSync(join(tmpdir(), "ix-port-"));
		try {
			const { code, output } = await runGatewayToExit(quickStart(stranger.port as number, dataDir), 20_000);
			expect(code).not.toBeNull();
			expect(code).not.toBe(0);
			expect(output).toContain(`port ${stranger.port} on 0.0.0.0 is already in use`);
		} finally {
			stranger.stop(true);
			rmSync(dataDir, { recursive: true, force: true });
		}
	}, 60_000);

	test("a second gateway on a running gateway's port refuses to start; the first keeps serving", async () => {
		const first = await startGatewayServer({
			workers: 2,
			env: {
				GATEWAY_API_KEYS: KEY,
				OPENAI_BASE_URL: `${mock.url}/v1`,
				OPENAI_API_KEY: "sk-upstream",
				OPENAI_MODELS: "gpt-4o-mini",
			},
		});
		const dataDir = mkdtempSync(join(tmpdir(), "ix-port-"));
		try {
			const { code, output } = await runGatewayToExit(quickStart(first.port, dataDir), 20_000);
			expect(code).not.toBeNull();
			expect(code).not.toBe(0);
			expect(output).toContain(`port ${first.port}`);
			const ready = await fetch(`${first.url}/readyz`);
			expect(ready.status).toBe(200);
		} finally {
			await first.cleanup();
			rmSync(dataDir, { recursive: true, force: true });
		}
	}, 60_000);
});

// Needs a real server to cut (the embedded one lives inside the gateway); CI always sets DATABASE_URL.
if (process.env.DATABASE_URL)
	describe("/readyz while Postgres is down (real Postgres)", () => {
		test("stays ready, reports the database as degraded, and requests are still served", async () => {
			const dbUrl = (await freshDatabaseUrl()) as string;
			const direct = new URL(dbUrl);
			const proxy = startTcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
			const viaProxy = new URL(dbUrl);
			viaProxy.port = String(proxy.port);
			const gw = await startGatewayServer({
				databaseUrl: viaProxy.toString(),
				env: {
					GATEWAY_API_KEYS: KEY,
					OPENAI_BASE_URL: `${mock.url}/v1`,
					OPENAI_API_KEY: "sk-upstream",
					OPENAI_MODELS: "gpt-4o-mini",
				},
			});
			type Ready = { status: string; checks: Record<string, string>; details?: Record<string, string> };
			const readyz = async () => {
				const res = await fetch(`${gw.url}/readyz`);
				return { status: res.status, body: (await res.json()) as Ready };
			};
			try {
				const up = await readyz();
				expect(up.status).toBe(200);
				expect(up.body.checks.database).toBe("ok");

				proxy.cut();
				let down = up;
				await waitFor(
					async () => {
						down = await readyz();
						return down.body.checks.database === "degraded";
					},
					{ timeoutMs: 10_000, what: "/readyz to report the database degraded" },
				);
				expect(down.status).toBe(200);
				expect(down.body.status).toBe("ready");
				expect(down.body.details?.database).toBeString();
				const res = await fetch(`${gw.url}/v1/chat/completions`, {
					method: "POST",
					headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
					body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "still here?" }] }),
				});
				expect(res.status).toBe(200);
				await res.arrayBuffer();

				proxy.restore();
				await waitFor(async () => (await readyz()).body.checks.database === "ok", {
					timeoutMs: 15_000,
					what: "/readyz to see the database again",
				});
			} finally {
				await gw.cleanup();
				proxy.stop();
				const admin = postgres(process.env.DATABASE_URL as string, { max: 1, onnotice: () => {} });
				await admin.unsafe(`drop database if exists "${direct.pathname.slice(1)}" with (force)`);
				await admin.end();
			}
		}, 90_000);
	});
