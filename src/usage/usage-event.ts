export type UsageSource = "upstream" | "estimated";

/**
 * One flat record per client request. Built by the HTTP worker when the request ends
 * (success, error or broken stream), written as one COPY line (src/usage/copy-line.ts) and
 * posted towards the audit writer; never awaited. Flat and primitive-only: one line, one row.
 */
export interface UsageEvent {
	/** Gateway request id; unique; rows are idempotent on it. */
	request_id: string;
	/** The client's own x-request-id when it sent a valid one (echoed back to it); else null. */
	client_request_id: string | null;
	/** Epoch milliseconds when the request arrived. */
	ts: number;
	key_id: string | null;
	tenant_id: string | null;
	/** e.g. "/v1/chat/completions" (the canonical path, without the /api prefix). */
	endpoint: string;
	/** The model string the client sent. */
	requested_model: string | null;
	provider: string | null;
	account: string | null;
	/** The upstream model id actually called. */
	model: string | null;
	stream: boolean;
	/** HTTP status returned to the client. */
	status: number;
	/** Stable gateway error code (README table) or null on success. */
	error_code: string | null;
	/** Upstream attempts made (1 when the first account answered). */
	attempts: number;
	latency_ms: number;
	/** Time to first byte/token sent to the client; null when not streamed or never reached. */
	ttft_ms: number | null;
	prompt_tokens: number;
	completion_tokens: number;
	cached_tokens: number;
	/** Anthropic cache-creation input tokens (0 elsewhere). */
	cache_write_tokens: number;
	reasoning_tokens: number;
	total_tokens: number;
	/** USD, from the price in force; null when the model has no price (the cost is unknown). */
	cost_usd: number | null;
	/** True when a stream broke or the client left before the end. */
	incomplete: boolean;
	user_agent: string | null;
	/** Where the token counts come from: the upstream's report, or the gateway's estimate (src/usage/usage-estimate.ts). */
	usage_source: UsageSource;
}
