import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { type GatewayServer, startGatewayServer } from "../support/gateway-server.ts";
import { type MockUpstream, startMockUpstream } from "../support/mock-upstream.ts";
import { waitFor } from "../support/wait-for.ts";
import { runIx } from "./run-ix.ts";

/**
 * The real CLI against the real gateway (two HTTP workers, so a challenge made on one is redeemed
 * on either): keygen → enrol → login → keys → traffic → usage matching request_logs, and every
 * refusal of the login with the message that says what to do.
 */
const ADMIN = "e2e-admin-token-cli-0123456789";
let mock: MockUpstream;
let gw: GatewayServer;
let home: string;

beforeAll(async () => {
	home = mkdtempSync(join(tmpdir(), "ix-home-"));
	mock = await startMockUpstream();
	gw = await startGatewayServer({
		workers: 2,
		env: {
			OPENAI_BASE_URL: `${mock.url}/v1`,
			OPENAI_API_KEY: "sk-upstream",
			OPENAI_MODELS: "gpt-4o-mini",
			GATEWAY_ADMIN_TOKEN: ADMIN,
			GATEWAY_ENCRYPTION_KEY: "c".repeat(64),
			LOG_LEVEL: "warn",
		},
	});
}, 60_000);

afterAll(async () => {
	await gw?.cleanup();
	await mock?.stop();
	rmSync(home, { recursive: true, force: true });
}, 30_000);

const ix = (...args: string[]) => runIx(args, { HOME: home });
const asAdmin = (...args: string[]) => ix(...args, "--url", gw.url, "--token", ADMIN);
const json = async <T>(p: Promise<{ code: number; stdout: string; stderr: string }>): Promise<T> => {
	const r = await p;
	if (r.code !== 0) throw new Error(`ix failed (${r.code}): ${r.stderr}`);
	return JSON.parse(r.stdout) as T;
};
const keyFile = () => join(home, ".config", "interchange", "id_ed25519");
const sessionFile = () => join(home, ".config", "interchange", "session.json");

async function adminApi<T>(path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
	const res = await fetch(`${gw.url}${path}`, {
		...init,
		headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json", ...init.headers },
	});
	return { status: res.status, body: (await res.json()) as T };
}

describe("ix: keygen, enrol, login", () => {
	test("keygen writes a 0600 private key and an OpenSSH .pub with ssh-keygen's fingerprint; never overwrites", async () => {
		const r = await ix("keygen");
		expect(r.code).toBe(0);
		expect(statSync(keyFile()).mode & 0o777).toBe(0o600);
		const fingerprint = /fingerprint: (SHA256:\S+)/.exec(r.stdout)?.[1];
		expect(fingerprint).toBeDefined();
		const pub = readFileSync(`${keyFile()}.pub`, "utf8");
		expect(pub).toStartWith("ssh-ed25519 AAAA");
		if (Bun.which("ssh-keygen")) {
			const out = Bun.spawnSync(["ssh-keygen", "-l", "-E", "sha256", "-f", `${keyFile()}.pub`]).stdout.toString();
			expect(out).toContain(fingerprint as string);
		}
		const again = await ix("keygen");
		expect(again.code).toBe(2);
		expect(again.stderr).toContain("already exists");
	});

	test("a command before login exits 3 and says to log in", async () => {
		const r = await ix("keys", "list");
		expect(r.code).toBe(3);
		expect(r.stderr).toContain("not logged in: run `ix login <url>`");
	});

	test("login with a key nobody enrolled is refused, naming the fix", async () => {
		const r = await ix("login", gw.url);
		expect(r.code).toBe(1);
		expect(r.stderr).toContain("PLATFORM_ADMIN_KEY_UNKNOWN");
		expect(r.stderr).toContain("enrol");
	});

	test("enrol with the admin token, then log in: the session is saved 0600", async () => {
		const enrolled = await json<{ id: string; fingerprint: string }>(asAdmin("admin-keys", "add", "--json"));
		expect(enrolled.fingerprint).toStartWith("SHA256:");
		const r = await ix("login", gw.url);
		expect(r.stderr).toBe("");
		expect(r.code).toBe(0);
		expect(r.stdout).toContain(`logged in to ${gw.url} as ${enrolled.fingerprint}`);
		expect(statSync(sessionFile()).mode & 0o777).toBe(0o600);
		const saved = JSON.parse(readFileSync(sessionFile(), "utf8"));
		expect(saved.token).toStartWith("ixs_");
		expect(saved.url).toBe(gw.url);
		// logging in again opens a second session: the challenge is redeemed whichever worker answers
		for (let i = 0; i < 3; i++) expect((await ix("login", gw.url)).code).toBe(0);
	});
});

describe("ix: keys and usage on a session", () => {
	let keyId = "";
	let key = "";

	test("keys create prints the key once with every limit; keys list shows it without the key", async () => {
		const r = await ix(
			"keys",
			"create",
			"--tenant",
			"acme",
			"--name",
			"ci",
			"--rpm",
			"100",
			"--tpm",
			"100000",
			"--max-concurrency",
			"4",
			"--quota-daily-requests",
			"1000",
			"--quota-daily-tokens",
			"1000000",
			"--budget-usd",
			"5",
			"--budget-period",
			"month",
			"--models",
			"gpt-4o-mini",
			"--expires-at",
			"2099-01-01T00:00:00Z",
		);
		expect(r.stderr).toBe("");
		expect(r.code).toBe(0);
		key = /^key: (\S+)$/m.exec(r.stdout)?.[1] as string;
		expect(key).toBeDefined();
		expect(r.stdout).toContain("shown once");
		keyId = /^id\s+(\S+)$/m.exec(r.stdout)?.[1] as string;
		const shown = await json<{
			rpm: number;
			tpm: number;
			max_concurrency: number;
			budget_usd: number;
			budget_period: string;
			models: string[];
			quota_daily_requests: number;
			quota_daily_tokens: number;
			expires_at: string;
		}>(ix("keys", "get", keyId, "--json"));
		expect(shown).toMatchObject({
			rpm: 100,
			tpm: 100000,
			max_concurrency: 4,
			quota_daily_requests: 1000,
			quota_daily_tokens: 1000000,
			budget_usd: 5,
			budget_period: "month",
			models: ["gpt-4o-mini"],
			expires_at: "2099-01-01T00:00:00.000Z",
		});
		const list = await ix("keys", "list");
		expect(list.stdout).toMatch(new RegExp(`^${keyId}\\s+acme\\s+ci\\s+`, "m"));
		expect(list.stdout).not.toContain(key);

		const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key, maxRetries: 0 });
		for (let i = 0; i < 3; i++) {
			await client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] });
		}
		await waitFor(
			async () => (await adminApi<{ data: unknown[] }>(`/admin/logs?key_id=${keyId}`)).body.data.length === 3,
			{
				what: "3 request_logs rows",
			},
		);
	});

	test("tenants list counts each tenant's active keys", async () => {
		const list = await ix("tenants", "list");
		expect(list.code).toBe(0);
		expect(list.stdout).toMatch(/^acme\s+acme\s+1\s/m);
	});

	test("usage --by key matches request_logs (requests, tokens, cost)", async () => {
		const logs = (
			await adminApi<{ data: { total_tokens: number; cost_usd: number | null; status: number }[] }>(
				`/admin/logs?key_id=${keyId}`,
			)
		).body.data;
		const usage = await json<{ data: Record<string, unknown>[] }>(
			ix("usage", "--by", "key", "--since", "1d", "--json"),
		);
		const row = usage.data.find((r) => Object.values(r).includes(keyId));
		expect(row).toBeDefined();
		expect(Number(row?.requests)).toBe(3);
		expect(Number(row?.total_tokens)).toBe(logs.reduce((s, l) => s + l.total_tokens, 0));
		expect(Number(row?.cost_usd)).toBeCloseTo(
			logs.reduce((s, l) => s + (l.cost_usd ?? 0), 0),
			9,
		);
		const table = await ix("usage", "--by", "key");
		expect(table.stdout).toMatch(new RegExp(`${keyId}\\s+3\\s+0\\s+`));
		const logsOut = await ix("logs", "--key", keyId);
		expect(logsOut.stdout.trim().split("\n")).toHaveLength(4);
	});

	test("keys revoke: the key stops working at once, and shows as revoked", async () => {
		const r = await ix("keys", "revoke", keyId);
		expect(r.code).toBe(0);
		expect(r.stdout).toContain(`revoked ${keyId}`);
		const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key, maxRetries: 0 });
		const refused = await client.chat.completions
			.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] })
			.catch((e: InstanceType<typeof OpenAI.APIError>) => e);
		expect((refused as InstanceType<typeof OpenAI.APIError>).code).toBe("PLATFORM_AUTH_KEY_REVOKED");
		const all = await json<{ data: { id: string; revoked_at: string | null }[] }>(
			ix("keys", "list", "--all", "--json"),
		);
		expect(all.data.find((k) => k.id === keyId)?.revoked_at).not.toBeNull();
		const missing = await ix("keys", "revoke", "key_nope");
		expect(missing.code).toBe(1);
		expect(missing.stderr).toContain("PLATFORM_NOT_FOUND");
	});

	test("console prints a one-time link that opens a session once", async () => {
		const r = await ix("console");
		const url = r.stdout.trim().split("\n")[0] as string;
		expect(url).toStartWith(`${gw.url}/console#code=`);
		const code = url.split("#code=")[1];
		const redeem = () =>
			fetch(`${gw.url}/admin/auth/console-session`, { method: "POST", body: JSON.stringify({ code }) });
		const first = await redeem();
		expect(first.status).toBe(201);
		const { token } = (await first.json()) as { token: string };
		expect((await fetch(`${gw.url}/admin/keys`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
		const second = await redeem();
		expect(((await second.json()) as { error: { code: string } }).error.code).toBe("PLATFORM_ADMIN_CHALLENGE_REPLAYED");
	});
});

describe("ix: refusals say what to do", () => {
	test("a replayed signature is refused: a challenge is single use", async () => {
		const { createPrivateKey, sign } = await import("node:crypto");
		const privateKey = createPrivateKey(readFileSync(keyFile(), "utf8"));
		const challenge = await fetch(`${gw.url}/admin/auth/challenge`, {
			method: "POST",
			body: JSON.stringify({ public_key: readFileSync(`${keyFile()}.pub`, "utf8") }),
		}).then((r) => r.json() as Promise<{ challenge_id: string; message: string }>);
		const body = JSON.stringify({
			challenge_id: challenge.challenge_id,
			signature: sign(null, Buffer.from(challenge.message), privateKey).toString("base64"),
		});
		const post = () => fetch(`${gw.url}/admin/auth/session`, { method: "POST", body });
		expect((await post()).status).toBe(201);
		const replay = await post();
		expect(replay.status).toBe(401);
		const err = ((await replay.json()) as { error: { code: string; message: string } }).error;
		expect(err.code).toBe("PLATFORM_ADMIN_CHALLENGE_REPLAYED");
		expect(err.message).toContain("ask for a new one");
	});

	test("a revoked session is refused on every worker within a second, and the CLI says to log in again", async () => {
		const saved = JSON.parse(readFileSync(sessionFile(), "utf8")) as { token: string; session_id: string };
		const call = () => fetch(`${gw.url}/admin/keys`, { headers: { authorization: `Bearer ${saved.token}` } });
		// both workers have the session cached
		for (let i = 0; i < 6; i++) expect((await call()).status).toBe(200);
		const listed = await json<{ data: { id: string }[] }>(ix("sessions", "--json"));
		expect(listed.data.map((s) => s.id)).toContain(saved.session_id);
		expect((await asAdmin("sessions", "revoke", saved.session_id)).code).toBe(0);
		const revokedAt = Date.now();
		await waitFor(
			async () => {
				const codes = await Promise.all(Array.from({ length: 6 }, () => call().then((r) => r.status)));
				return codes.every((c) => c === 401);
			},
			{ timeoutMs: 1_000, what: "every worker refusing the revoked session" },
		);
		expect(Date.now() - revokedAt).toBeLessThan(1_000);
		const r = await ix("keys", "list");
		expect(r.code).toBe(3);
		expect(r.stderr).toContain(`session revoked: run \`ix login ${gw.url}\``);
		expect(r.stderr).toContain("PLATFORM_ADMIN_SESSION_REVOKED");
	});

	test("a revoked admin key: its sessions end and it can no longer log in", async () => {
		expect((await ix("login", gw.url)).code).toBe(0);
		expect((await ix("keys", "list")).code).toBe(0);
		const keys = await json<{ data: { id: string }[] }>(asAdmin("admin-keys", "list", "--json"));
		for (const k of keys.data) expect((await asAdmin("admin-keys", "revoke", k.id)).code).toBe(0);
		await waitFor(async () => (await ix("keys", "list")).code === 3, { timeoutMs: 2_000, what: "the session refused" });
		const r = await ix("keys", "list");
		expect(r.stderr).toContain("your admin key was revoked");
		expect(r.stderr).toContain(`run \`ix login ${gw.url}\``);
		const again = await ix("login", gw.url);
		expect(again.code).toBe(1);
		expect(again.stderr).toContain("PLATFORM_ADMIN_KEY_REVOKED");
		expect(again.stderr).toContain("enrol a new key");
	});

	test("logout ends the session on the server and forgets it here", async () => {
		const other = mkdtempSync(join(tmpdir(), "ix-home-"));
		try {
			const run = (...args: string[]) => runIx(args, { HOME: other });
			expect((await run("keygen")).code).toBe(0);
			expect((await run("admin-keys", "add", "--url", gw.url, "--token", ADMIN)).code).toBe(0);
			expect((await run("login", gw.url)).code).toBe(0);
			const token = JSON.parse(readFileSync(join(other, ".config", "interchange", "session.json"), "utf8")).token;
			const out = await run("logout");
			expect(out.stdout).toContain(`logged out of ${gw.url}`);
			const res = await fetch(`${gw.url}/admin/keys`, { headers: { authorization: `Bearer ${token}` } });
			expect(((await res.json()) as { error: { code: string } }).error.code).toBe("PLATFORM_ADMIN_SESSION_REVOKED");
			expect((await run("keys", "list")).code).toBe(3);
		} finally {
			rmSync(other, { recursive: true, force: true });
		}
	});
});

describe("ix against a gateway with keys from the environment, a short challenge and the admin token off", () => {
	let strict: GatewayServer;
	let configDir: string;

	beforeAll(async () => {
		configDir = mkdtempSync(join(tmpdir(), "ix-conf-"));
		writeFileSync(join(configDir, "gateway.toml"), "[admin]\nchallenge_ttl_ms = 1\n");
		const fresh = mkdtempSync(join(tmpdir(), "ix-home-"));
		await runIx(["keygen"], { HOME: fresh });
		home = fresh;
		strict = await startGatewayServer({
			env: {
				GATEWAY_CONFIG: join(configDir, "gateway.toml"),
				GATEWAY_ADMIN_TOKEN: ADMIN,
				GATEWAY_ADMIN_TOKEN_ENABLED: "false",
				GATEWAY_ADMIN_PUBLIC_KEYS: readFileSync(`${keyFile()}.pub`, "utf8").trim(),
				LOG_LEVEL: "warn",
			},
		});
	}, 60_000);

	afterAll(async () => {
		await strict?.cleanup();
		rmSync(configDir, { recursive: true, force: true });
	});

	test("an expired challenge is refused with a clear message (the key was enrolled from GATEWAY_ADMIN_PUBLIC_KEYS)", async () => {
		const r = await ix("login", strict.url);
		expect(r.code).toBe(1);
		expect(r.stderr).toContain("PLATFORM_ADMIN_CHALLENGE_EXPIRED");
		expect(r.stderr).toContain("This challenge has expired: ask for a new one");
	});

	test("with token_enabled = false the admin token no longer opens /admin/*", async () => {
		const r = await ix("keys", "list", "--url", strict.url, "--token", ADMIN);
		expect(r.code).toBe(3);
		expect(r.stderr).toContain("The admin token is switched off here");
	});
});
