import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { freePort } from "./free-port.ts";
import { waitFor } from "./wait-for.ts";

export interface GatewayServer {
	url: string;
	port: number;
	proc: ReturnType<typeof Bun.spawn>;
	dataDir: string;
	/** Set when the test runs against a real Postgres (a fresh database per server). */
	databaseUrl: string | null;
	/** Everything the process printed so far (pino JSON lines). */
	output(): string;
	/** Sends a signal and waits for the exit code. */
	stop(signal?: NodeJS.Signals): Promise<number>;
	/** Stops the process (if running) and removes its data dir and database. */
	cleanup(): Promise<void>;
}

export interface GatewayServerOptions {
	env?: Record<string, string>;
	/** Reuse a data dir (restart tests); otherwise a fresh temp dir. */
	dataDir?: string;
	/** Reuse a database URL (restart tests); otherwise a fresh one when DATABASE_URL is set. */
	databaseUrl?: string | null;
	workers?: number;
	readyTimeoutMs?: number;
}

const ROOT = join(import.meta.dir, "..", "..");

/** A fresh database on the DATABASE_URL server (the gateway migrates it itself). */
export async function freshDatabaseUrl(): Promise<string | null> {
	const serverUrl = process.env.DATABASE_URL;
	if (!serverUrl) return null;
	const name = `ix_e2e_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
	const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
	await admin.unsafe(`create database "${name}"`);
	await admin.end();
	const u = new URL(serverUrl);
	u.pathname = `/${name}`;
	return u.toString();
}

export async function dropDatabase(url: string): Promise<void> {
	const serverUrl = process.env.DATABASE_URL;
	if (!serverUrl) return;
	const name = new URL(url).pathname.slice(1);
	const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
	await admin.unsafe(`drop database if exists "${name}" with (force)`).catch(() => {});
	await admin.end();
}

/**
 * Runs the real gateway with exactly `env` (plus PATH and HOME) and waits for it to exit on
 * its own: for starts that must fail. Its exit code and everything it printed.
 */
export async function runGatewayToExit(
	env: Record<string, string>,
	timeoutMs = 30_000,
): Promise<{ code: number | null; output: string }> {
	const proc = Bun.spawn(["bun", "run", "src/index.ts"], {
		cwd: ROOT,
		env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
		stdout: "pipe",
		stderr: "pipe",
	});
	const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
	const [stdout, stderr, code] = await Promise.all([
		new Response(proc.stdout as ReadableStream<Uint8Array>).text(),
		new Response(proc.stderr as ReadableStream<Uint8Array>).text(),
		proc.exited,
	]);
	clearTimeout(timer);
	return { code: proc.signalCode ? null : code, output: stdout + stderr };
}

/**
 * Starts the real gateway (`bun run src/index.ts`) on a free port, as a user would, and
 * waits until /readyz answers 200.
 */
export async function startGatewayServer(opts: GatewayServerOptions = {}): Promise<GatewayServer> {
	const port = await freePort();
	const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), "ix-gw-"));
	const databaseUrl = opts.databaseUrl === undefined ? await freshDatabaseUrl() : opts.databaseUrl;
	const env: Record<string, string> = {
		PATH: process.env.PATH ?? "",
		HOME: process.env.HOME ?? "/tmp",
		PORT: String(port),
		GATEWAY_DATA_DIR: dataDir,
		GATEWAY_HTTP_WORKERS: String(opts.workers ?? 1),
		LOG_LEVEL: "info",
		BUN_CONFIG_MAX_HTTP_REQUESTS: "65535",
		...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
		...opts.env,
	};
	const proc = Bun.spawn(["bun", "run", "src/index.ts"], {
		cwd: ROOT,
		env,
		stdout: "pipe",
		stderr: "pipe",
	});
	let out = "";
	const pump = async (stream: ReadableStream<Uint8Array>) => {
		const dec = new TextDecoder();
		for await (const chunk of stream) out += dec.decode(chunk, { stream: true });
	};
	void pump(proc.stdout as ReadableStream<Uint8Array>);
	void pump(proc.stderr as ReadableStream<Uint8Array>);
	const url = `http://127.0.0.1:${port}`;
	let exited = false;
	void proc.exited.then(() => {
		exited = true;
	});
	try {
		await waitFor(
			async () => {
				if (exited) throw new Error(`gateway exited during start:\n${out}`);
				try {
					return (await fetch(`${url}/readyz`)).status === 200;
				} catch {
					return false;
				}
			},
			{ timeoutMs: opts.readyTimeoutMs ?? 60_000, intervalMs: 50, what: "gateway /readyz" },
		);
	} catch (e) {
		proc.kill("SIGKILL");
		throw e;
	}
	const server: GatewayServer = {
		url,
		port,
		proc,
		dataDir,
		databaseUrl,
		output: () => out,
		async stop(signal = "SIGTERM") {
			if (!exited) proc.kill(signal);
			return await proc.exited;
		},
		async cleanup() {
			if (!exited) {
				proc.kill("SIGKILL");
				await proc.exited;
			}
			if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
			if (databaseUrl && opts.databaseUrl === undefined) await dropDatabase(databaseUrl);
		},
	};
	return server;
}
