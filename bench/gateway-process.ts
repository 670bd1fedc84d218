/** Child server processes for the benchmark: the gateway and the bare proxy. */

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { freePort } from "../test/support/free-port.ts";
import { dropDatabase, freshDatabaseUrl } from "../test/support/gateway-server.ts";

export interface ServerProcess {
	url: string;
	pid: number;
	stop(): Promise<void>;
}

const ROOT = join(import.meta.dir, "..");
const children = new Set<Subprocess>();

/** Kills every child still running; run.ts calls it on exit, errors and signals. */
export function killAllChildren(): void {
	for (const child of children) {
		try {
			child.kill("SIGKILL");
		} catch {
			// already gone
		}
	}
	children.clear();
}

/**
 * Runs a bench entry point: child servers die with the bench (exit, Ctrl-C, errors), and the
 * exit code is main's (0 when it returns nothing).
 */
export async function runBench(main: () => Promise<unknown>): Promise<never> {
	process.on("exit", killAllChildren);
	for (const sig of ["SIGINT", "SIGTERM"] as const) {
		process.on(sig, () => {
			killAllChildren();
			process.exit(130);
		});
	}
	try {
		const code = await main();
		process.exit(typeof code === "number" ? code : 0);
	} catch (e) {
		console.error(e);
		killAllChildren();
		process.exit(1);
	}
}

/** Keeps the last few KB of a child's output for the error message. */
function tail(stream: ReadableStream<Uint8Array>, keep = 4_000): () => string {
	let text = "";
	const decoder = new TextDecoder();
	(async () => {
		for await (const chunk of stream) {
			text = (text + decoder.decode(chunk, { stream: true })).slice(-keep);
		}
	})().catch(() => {});
	return () => text;
}

async function stopChild(child: Subprocess, graceMs = 5_000): Promise<void> {
	if (child.exitCode !== null || child.signalCode !== null) {
		children.delete(child);
		return;
	}
	child.kill("SIGTERM");
	const exited = await Promise.race([child.exited.then(() => true), Bun.sleep(graceMs).then(() => false)]);
	if (!exited) child.kill("SIGKILL");
	await child.exited;
	children.delete(child);
}

export interface SpawnServerOptions {
	cmd: string[];
	env: Record<string, string>;
	port: number;
	/** Polled until it answers 200. */
	readyPath: string;
	readyTimeoutMs: number;
	name: string;
	onStop?: () => void | Promise<void>;
}

/** Spawns a server process and polls `readyPath` until 200, or throws with its output's tail. */
export async function spawnServer(o: SpawnServerOptions): Promise<ServerProcess> {
	const child = Bun.spawn(o.cmd, {
		cwd: ROOT,
		env: { ...o.env, PATH: process.env.PATH ?? "/usr/bin:/bin" },
		stdout: "pipe",
		stderr: "pipe",
	});
	children.add(child);
	const out = tail(child.stdout);
	const err = tail(child.stderr);
	const url = `http://127.0.0.1:${o.port}`;
	const deadline = Date.now() + o.readyTimeoutMs;
	const stop = async () => {
		await stopChild(child);
		await o.onStop?.();
	};
	while (true) {
		if (child.exitCode !== null || child.signalCode !== null) {
			await stop();
			throw new Error(`${o.name} exited (${child.exitCode ?? child.signalCode}) before ready:\n${err() || out()}`);
		}
		try {
			const res = await fetch(`${url}${o.readyPath}`, {
				signal: AbortSignal.timeout(1_000),
			});
			await res.arrayBuffer();
			if (res.status === 200) break;
		} catch {
			// not listening yet
		}
		if (Date.now() > deadline) {
			await stop();
			throw new Error(`${o.name} not ready after ${o.readyTimeoutMs} ms:\n${err() || out()}`);
		}
		await Bun.sleep(100);
	}
	return { url, pid: child.pid, stop };
}

/**
 * Starts `bun run src/index.ts` with the given env on a free port and a throwaway data dir,
 * and waits until GET /readyz answers 200 (up to 60 s). `env` overrides the defaults. With
 * DATABASE_URL set, each gateway gets a fresh database on that server, dropped when it stops:
 * every run starts from an empty request_logs (a table grown by earlier runs makes inserts
 * slower and the figures drift). `embedded` runs the quick start's embedded database instead,
 * whatever DATABASE_URL says.
 */
export async function startGateway(
	env: Record<string, string>,
	{ readyTimeoutMs = 60_000, embedded = false }: { readyTimeoutMs?: number; embedded?: boolean } = {},
): Promise<ServerProcess> {
	const port = await freePort();
	const dataDir = mkdtempSync(join(tmpdir(), "interchange-bench-"));
	const base: Record<string, string> = {
		PORT: String(port),
		LOG_LEVEL: "warn",
		BUN_CONFIG_MAX_HTTP_REQUESTS: "65535",
		GATEWAY_DATA_DIR: dataDir,
		HOME: process.env.HOME ?? "/tmp",
	};
	const database = env.DATABASE_URL || embedded ? null : await freshDatabaseUrl();
	if (database) base.DATABASE_URL = database;
	// experiments: GATEWAY_*, BUN_CONFIG_* and BUN_JSC_* (JavaScriptCore options) settings in the bench's env reach the gateway
	for (const [k, v] of Object.entries(process.env)) {
		if ((k.startsWith("GATEWAY_") || k.startsWith("BUN_CONFIG_") || k.startsWith("BUN_JSC_")) && v !== undefined)
			base[k] = v;
	}
	return spawnServer({
		cmd: [process.execPath, "run", "src/index.ts"],
		env: { ...base, ...env, PORT: String(port) },
		port,
		readyPath: "/readyz",
		readyTimeoutMs,
		name: "gateway",
		onStop: async () => {
			rmSync(dataDir, { recursive: true, force: true });
			if (database) await dropDatabase(database);
		},
	}).catch(async (e) => {
		if (database) await dropDatabase(database);
		throw e;
	});
}

/** The default gateway for the benchmark: one OpenAI account pointing at the mock. */
export function gatewayEnvFor(mockUrl: string): Record<string, string> {
	return {
		OPENAI_BASE_URL: `${mockUrl}/v1`,
		OPENAI_API_KEY: "bench",
		OPENAI_MODELS: "gpt-4o-mini",
		GATEWAY_API_KEYS: "bench-key",
	};
}

/** Starts bench/bare-proxy.ts in its own process, forwarding to `upstreamUrl`. */
export async function startBareProxy(upstreamUrl: string): Promise<ServerProcess> {
	const port = await freePort();
	return spawnServer({
		cmd: [process.execPath, "bench/bare-proxy.ts"],
		env: { UPSTREAM_URL: upstreamUrl, PORT: String(port) },
		port,
		readyPath: "/__ready",
		readyTimeoutMs: 15_000,
		name: "bare-proxy",
	});
}

export const BENCH_ADMIN_TOKEN = "bench-admin-token-0123456789";

/** A gateway.toml for the mock: an OpenAI provider with `accounts` accounts, an Anthropic one, prices. */
export function configFile(mockUrl: string, accounts: number): string {
	const dir = mkdtempSync(join(tmpdir(), "interchange-bench-cfg-"));
	const path = join(dir, "gateway.toml");
	const accountTables = Array.from(
		{ length: accounts },
		(_, i) => `  [[providers.accounts]]\n  name = "acct-${i + 1}"\n  api_key = "bench-${i + 1}"\n`,
	).join("\n");
	writeFileSync(
		path,
		`[[providers]]
name = "openai"
type = "openai"
base_url = "${mockUrl}/v1"
models = ["gpt-4o-mini"]
${accountTables}
[[providers]]
name = "claude"
type = "anthropic"
base_url = "${mockUrl}/v1"
models = ["claude-bench"]
api_key = "bench-anthropic"

[[prices]]
model = "gpt-4o-mini"
input = 0.15
output = 0.60
`,
	);
	return path;
}

/** A database-backed key with every limit (`limits: false`: a plain key with none). */
export async function createLimitedKey(gw: ServerProcess, limits = true): Promise<string> {
	const res = await fetch(`${gw.url}/admin/keys`, {
		method: "POST",
		headers: {
			authorization: `Bearer ${BENCH_ADMIN_TOKEN}`,
			"content-type": "application/json",
		},
		body: JSON.stringify({
			tenant_id: "bench",
			name: "bench",
			...(limits
				? {
						rpm: 100_000_000,
						tpm: 1_000_000_000,
						max_concurrency: 10_000,
						quota_daily_requests: 1_000_000_000,
						quota_daily_tokens: 100_000_000_000,
						budget_usd: 1_000_000,
					}
				: {}),
		}),
	});
	if (res.status !== 201) throw new Error(`POST /admin/keys → ${res.status} ${await res.text()}`);
	return ((await res.json()) as { key: string }).key;
}

/**
 * The gateway with every feature on: three accounts, prices, audit
 * to Postgres, metrics, and a database-backed key with RPM, TPM, concurrency, daily quotas
 * and a budget set (high enough never to refuse). Returns the server and the client key.
 */
export async function startFullGateway(
	mockUrl: string,
	env: Record<string, string> = {},
): Promise<{ gw: ServerProcess; key: string }> {
	const gw = await startGateway({
		GATEWAY_CONFIG: configFile(mockUrl, 3),
		GATEWAY_ADMIN_TOKEN: BENCH_ADMIN_TOKEN,
		...env,
	});
	try {
		return { gw, key: await createLimitedKey(gw) };
	} catch (e) {
		await gw.stop();
		throw e;
	}
}
