import type { UsageEvent } from "../../src/usage/usage-event.ts";

let seq = 0;

/** A plausible usage event; override what the test cares about. */
export function makeUsageEvent(over: Partial<UsageEvent> = {}): UsageEvent {
	seq++;
	return {
		request_id: `req_${Date.now().toString(36)}_${seq}_${Math.random().toString(36).slice(2, 8)}`,
		client_request_id: null,
		ts: Date.now(),
		key_id: "key_a",
		tenant_id: "tenant_a",
		endpoint: "/v1/chat/completions",
		requested_model: "gpt-4o-mini",
		provider: "openai",
		account: "primary",
		model: "gpt-4o-mini",
		stream: false,
		status: 200,
		error_code: null,
		attempts: 1,
		latency_ms: 100,
		ttft_ms: null,
		prompt_tokens: 10,
		completion_tokens: 5,
		cached_tokens: 0,
		cache_write_tokens: 0,
		reasoning_tokens: 0,
		total_tokens: 15,
		cost_usd: 0.001,
		incomplete: false,
		user_agent: "test",
		usage_source: "upstream",
		...over,
	};
}
