import type { UsageEvent } from "../usage/usage-event.ts";
import { labels, type MetricsRegistry } from "./registry.ts";

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/** Turns each finished request into counters and histograms (a RequestRecord listener). */
export function requestMetricsListener(reg: MetricsRegistry) {
	return (ev: UsageEvent): void => {
		const route = labels({ route: ev.endpoint });
		reg.inc(
			"interchange_requests_total",
			"Client requests by route, model, provider and status",
			labels({ route: ev.endpoint, model: ev.model, provider: ev.provider, status: ev.status }),
		);
		reg.observe(
			"interchange_request_duration_seconds",
			"Client request latency (to the last byte)",
			LATENCY_BUCKETS,
			route,
			ev.latency_ms / 1000,
		);
		if (ev.ttft_ms !== null) {
			reg.observe(
				"interchange_time_to_first_token_seconds",
				"Time to the first streamed byte",
				LATENCY_BUCKETS,
				route,
				ev.ttft_ms / 1000,
			);
		}
		if (ev.total_tokens > 0) {
			const m = ev.model ?? "";
			const help = "Tokens by model and kind";
			reg.inc("interchange_tokens_total", help, labels({ model: m, kind: "prompt" }), ev.prompt_tokens);
			reg.inc("interchange_tokens_total", help, labels({ model: m, kind: "completion" }), ev.completion_tokens);
			if (ev.cached_tokens) reg.inc("interchange_tokens_total", help, labels({ model: m, kind: "cached" }), ev.cached_tokens);
		}
		if (ev.cost_usd > 0) reg.inc("interchange_cost_usd_total", "Cost in USD by model", labels({ model: ev.model }), ev.cost_usd);
		if (ev.error_code?.startsWith("UPSTREAM_")) {
			reg.inc(
				"interchange_upstream_errors_total",
				"Requests that ended in an upstream error, by provider, account and code",
				labels({ provider: ev.provider, account: ev.account, code: ev.error_code }),
			);
		}
		if (ev.attempts > 1) {
			reg.inc("interchange_failovers_total", "Extra upstream attempts made by failover", labels({ provider: ev.provider }), ev.attempts - 1);
		}
	};
}
