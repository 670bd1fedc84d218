/** runLoad: drives one target from a separate process, so the client gets its own core. */
import { join } from "node:path";
import type { LoadResult, LoadSpec } from "./load-types.ts";

export type { LoadResult, LoadSpec } from "./load-types.ts";

export interface RunLoadOptions {
	/** Base URL of the target, e.g. http://127.0.0.1:8080. */
	url: string;
	/** e.g. /v1/chat/completions. */
	path: string;
	/** Object bodies are JSON-serialised once. */
	body?: unknown;
	headers?: Record<string, string>;
	/** Default 64. */
	concurrency?: number;
	/** Measured seconds (default BENCH_SECONDS or 10). */
	seconds?: number;
	/** Default BENCH_WARMUP_SECONDS or 2. */
	warmupSeconds?: number;
	/** A streamed reply must end with `data: [DONE]\n\n` (OpenAI chat/completions streams). */
	stream?: boolean;
	/** Overrides the tail check (e.g. Anthropic streams end with message_stop). */
	expectTail?: string;
	maxRequests?: number;
	/** Load client; default BENCH_CLIENT or "raw" (measured: fetch caps the mock-direct run ~30% lower). */
	client?: "fetch" | "raw";
}

const WORKER = join(import.meta.dir, "load-worker.ts");

export function defaultSeconds(): number {
	const s = Number(process.env.BENCH_SECONDS);
	return Number.isFinite(s) && s > 0 ? s : 10;
}

function defaultWarmup(): number {
	const s = Number(process.env.BENCH_WARMUP_SECONDS);
	return Number.isFinite(s) && s >= 0 ? s : 2;
}

export async function runLoad(o: RunLoadOptions): Promise<LoadResult> {
	const spec: LoadSpec = {
		url: `${o.url}${o.path}`,
		method: o.body === undefined ? "GET" : "POST",
		body: o.body === undefined ? undefined : typeof o.body === "string" ? o.body : JSON.stringify(o.body),
		headers: { "content-type": "application/json", ...o.headers },
		concurrency: o.concurrency ?? 64,
		seconds: o.seconds ?? defaultSeconds(),
		warmupSeconds: o.warmupSeconds ?? defaultWarmup(),
		expectTail: o.expectTail ?? (o.stream ? "data: [DONE]\n\n" : undefined),
		maxRequests: o.maxRequests,
		client: o.client ?? (process.env.BENCH_CLIENT === "fetch" ? "fetch" : "raw"),
	};
	const child = Bun.spawn([process.execPath, WORKER, JSON.stringify(spec)], {
		stdout: "pipe",
		stderr: "pipe",
		env: {
			...process.env,
			BUN_CONFIG_MAX_HTTP_REQUESTS: String(Math.max(256, spec.concurrency * 2)),
		},
	});
	// The driver stops itself; this is the backstop if it hangs.
	const limitMs = (spec.seconds + spec.warmupSeconds) * 1000 + 20_000;
	const killer = setTimeout(() => child.kill("SIGKILL"), limitMs);
	try {
		const [out, err, code] = await Promise.all([
			new Response(child.stdout).text(),
			new Response(child.stderr).text(),
			child.exited,
		]);
		if (code !== 0) throw new Error(`load worker exited ${code}: ${err.slice(-2000)}`);
		const line = out.trim().split("\n").at(-1) ?? "";
		return JSON.parse(line) as LoadResult;
	} finally {
		clearTimeout(killer);
		if (child.exitCode === null) child.kill("SIGKILL");
	}
}
