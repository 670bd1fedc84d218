import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runIx } from "./run-ix.ts";

/**
 * The CLI's usage (several dimensions, CSV), audit and top commands against a tiny server that
 * answers with the admin API's documented shapes: what each command asks for, and how it renders.
 */
const TOKEN = "contract-admin-token-0123456789";
const requests: URL[] = [];
let server: ReturnType<typeof Bun.serve>;
let home: string;

const usageRows = [
	{
		key_id: "key_a",
		bucket: "2025-01-01",
		requests: 3,
		errors: 1,
		prompt_tokens: 30,
		completion_tokens: 60,
		total_tokens: 90,
		cost_usd: 0.0123,
		latency_ms_p50: 12,
		latency_ms_p95: 20,
		latency_ms_p99: 25,
		ttft_ms_p50: 5,
		ttft_ms_p95: 8,
		ttft_ms_p99: 9,
	},
	{
		key_id: "key_a",
		bucket: "2025-01-02",
		requests: 2,
		errors: 0,
		prompt_tokens: 20,
		completion_tokens: 40,
		total_tokens: 60,
		cost_usd: 0.01,
		latency_ms_p50: 10,
		latency_ms_p95: 15,
		latency_ms_p99: 18,
		ttft_ms_p50: 4,
		ttft_ms_p95: 6,
		ttft_ms_p99: 7,
	},
];

beforeAll(() => {
	home = mkdtempSync(join(tmpdir(), "ix-home-"));
	server = Bun.serve({
		port: 0,
		fetch(req) {
			const url = new URL(req.url);
			requests.push(url);
			if (req.headers.get("authorization") !== `Bearer ${TOKEN}`) return new Response("{}", { status: 401 });
			if (url.pathname === "/admin/usage" && url.searchParams.get("format") === "csv") {
				return new Response("key_id,bucket,requests\nkey_a,2025-01-01,3\nkey_a,2025-01-02,2\n", {
					headers: { "content-type": "text/csv" },
				});
			}
			if (url.pathname === "/admin/usage") {
				const minute = url.searchParams.get("group_by") === "minute";
				const data = minute
					? [
							{ bucket: "2025-01-01T10:00:00Z", requests: 60, errors: 0, latency_ms_p99: 40 },
							{ bucket: "2025-01-01T10:01:00Z", requests: 120, errors: 6, latency_ms_p99: 85, ttft_ms_p99: 30 },
						]
					: usageRows;
				return Response.json({ object: "list", group_by: url.searchParams.get("group_by")?.split(","), data });
			}
			if (url.pathname === "/admin/audit") {
				return Response.json({
					object: "list",
					data: [
						{
							id: "aud_1",
							at: "2025-01-01T10:00:00.000Z",
							actor: "session:ses_1",
							actor_fingerprint: "SHA256:abc",
							action: "key.revoke",
							target_type: "api_key",
							target_id: "key_a",
							before: {},
							after: {},
							client_ip: "127.0.0.1",
							request_id: "req_1",
						},
					],
					next_cursor: "cur_2",
				});
			}
			if (url.pathname === "/admin/providers") {
				return Response.json({
					object: "list",
					data: [
						{
							name: "openai",
							accounts: [
								{
									name: "primary",
									enabled: true,
									live: { state: "healthy", inflight: 2, error_ratio: 0.05, ewma_ttft_ms: 31.6 },
								},
								{
									name: "backup",
									enabled: true,
									live: { state: "ejected", inflight: 0, error_ratio: 0.5, ewma_ttft_ms: null },
								},
							],
						},
					],
				});
			}
			return new Response("{}", { status: 404 });
		},
	});
});

afterAll(() => {
	server.stop(true);
	rmSync(home, { recursive: true, force: true });
});

const ix = (...args: string[]) =>
	runIx([...args, "--url", `http://127.0.0.1:${server.port}`, "--token", TOKEN], { HOME: home });
const last = () => requests[requests.length - 1] as URL;

describe("ix usage, audit and top speak the admin API's contract", () => {
	test("usage --by key,day --since 7d --key asks for that key's days and shows both dimensions", async () => {
		const before = Date.now();
		const r = await ix("usage", "--by", "key,day", "--since", "7d", "--key", "key_a");
		expect(r.stderr).toBe("");
		expect(r.code).toBe(0);
		const q = last().searchParams;
		expect(q.get("group_by")).toBe("key,day");
		expect(q.get("key_id")).toBe("key_a");
		const since = Date.parse(q.get("since") ?? "");
		expect(Math.abs(before - 7 * 86_400_000 - since)).toBeLessThan(60_000);
		const lines = r.stdout.trim().split("\n");
		expect(lines[0]).toMatch(/^KEY_ID\s+BUCKET\s+REQUESTS\s+ERRORS\s+PROMPT_TOKENS/);
		expect(lines[0]).toContain("LATENCY_MS_P99");
		expect(lines[0]).toContain("TTFT_MS_P99");
		expect(lines[1]).toMatch(/^key_a\s+2025-01-01\s+3\s+1\s+30\s+60\s+90\s+0\.0123\s+12\s+25\s+5\s+9$/);
		expect(lines).toHaveLength(3);
	});

	test("usage --csv asks for format=csv and prints the server's CSV as is", async () => {
		const r = await ix("usage", "--by", "key,day", "--csv");
		expect(r.code).toBe(0);
		expect(last().searchParams.get("format")).toBe("csv");
		expect(r.stdout).toBe("key_id,bucket,requests\nkey_a,2025-01-01,3\nkey_a,2025-01-02,2\n");
	});

	test("usage --json prints the API's answer", async () => {
		const r = await ix("usage", "--by", "key,day", "--json");
		expect(JSON.parse(r.stdout).data).toEqual(usageRows);
	});

	test("a bad --since is a usage error (exit 2) that shows the accepted forms", async () => {
		const r = await ix("usage", "--since", "last tuesday");
		expect(r.code).toBe(2);
		expect(r.stderr).toContain("use 7d, 24h, 30m or an ISO 8601 date");
	});

	test("audit renders who did what to which target, and the next page's cursor", async () => {
		const r = await ix("audit", "--limit", "1");
		expect(r.code).toBe(0);
		expect(last().pathname).toBe("/admin/audit");
		expect(last().searchParams.get("limit")).toBe("1");
		const lines = r.stdout.trim().split("\n");
		expect(lines[0]).toMatch(/^AT\s+ACTOR\s+FINGERPRINT\s+ACTION\s+TARGET\s+CLIENT_IP$/);
		expect(lines[1]).toMatch(/session:ses_1\s+SHA256:abc\s+key\.revoke\s+api_key:key_a\s+127\.0\.0\.1$/);
		expect(lines[2]).toBe("more: --cursor cur_2");
	});

	test("top --once: requests/s, error rate and p99 of the latest minute, and each account's health", async () => {
		const r = await ix("top", "--once");
		expect(r.stderr).toBe("");
		const usageCall = requests.find(
			(u) => u.pathname === "/admin/usage" && u.searchParams.get("group_by") === "minute",
		);
		expect(usageCall).toBeDefined();
		expect(r.stdout).toContain("minute 2025-01-01T10:01:00Z");
		expect(r.stdout).toContain("requests/s 2.00   errors 5.0%   p99 85 ms   ttft p99 30 ms");
		expect(r.stdout).toMatch(/openai\s+primary\s+healthy\s+2\s+5\.0%\s+32/);
		expect(r.stdout).toMatch(/openai\s+backup\s+ejected\s+0\s+50\.0%/);
		const json = JSON.parse((await ix("top", "--once", "--json")).stdout);
		expect(json.requests_per_s).toBe(2);
		expect(json.error_rate).toBe(0.05);
	});
});

test("`bun run ix` and the `interchange` bin start the CLI; an unknown command is exit 2", async () => {
	const root = join(import.meta.dir, "..", "..");
	const pkg = (await Bun.file(join(root, "package.json")).json()) as { bin: Record<string, string> };
	expect(pkg.bin.interchange).toBe("src/cli/main.ts");
	const viaScript = Bun.spawnSync(["bun", "run", "ix", "help"], { cwd: root });
	expect(viaScript.exitCode).toBe(0);
	expect(viaScript.stdout.toString()).toContain("ix login <url>");
	const viaBin = Bun.spawnSync([join(root, pkg.bin.interchange), "frobnicate"], {
		cwd: root,
		env: { PATH: process.env.PATH ?? "", HOME: home },
	});
	expect(viaBin.exitCode).toBe(2);
	expect(viaBin.stderr.toString()).toContain("unknown command 'frobnicate'");
});
