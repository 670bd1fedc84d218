/** The contract between runLoad (parent) and load-worker.ts (child process). */

export interface LoadSpec {
	/** Full URL, e.g. http://127.0.0.1:8080/v1/chat/completions. */
	url: string;
	method?: "POST" | "GET";
	/** Sent as-is on every request (pre-serialised once). */
	body?: string;
	headers?: Record<string, string>;
	concurrency: number;
	/** Measured window. */
	seconds: number;
	/** Unmeasured window before it. */
	warmupSeconds: number;
	/** A response counts as an error unless its body ends with this (e.g. "data: [DONE]\n\n"). */
	expectTail?: string;
	/** Hard cap on requests in the measured window, so a loop is bounded in count too. */
	maxRequests?: number;
	/** Per-request ceiling. */
	timeoutMs?: number;
	/** "raw" (HTTP/1.1 over Bun.connect, cheaper per request) or "fetch" (keep-alive pool). */
	client?: "fetch" | "raw";
}

export interface LoadResult {
	requests: number;
	errors: number;
	/** Up to 5 distinct error descriptions. */
	errorSamples: string[];
	seconds: number;
	rps: number;
	p50: number;
	p90: number;
	p99: number;
	max: number;
	/** Median time to response headers (ms): the first byte for streams. */
	ttfbP50: number;
	/** Mean response bytes, to confirm the target sent the whole thing. */
	meanBytes: number;
}
