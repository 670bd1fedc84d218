import type { UsageEvent } from "../usage/usage-event.ts";
import { labels, type MetricsRegistry } from "./registry.ts";

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

const MAX_MEMO = 10_000;

/**
 * Rendered label sets are memoised: the same few route/model/provider/status combinations
 * repeat on every request, and escaping them each time showed up in profiles.
 */
function memo<A extends unknown[]>(render: (...args: A) => string): (...args: A) => string {
	const cache = new Map<string, string>();
	return (...args: A) => {
		const key = args.join("\u0000");
		let v = cache.get(key);
		if (v === undefined) {
			v = render(...args);
			if (cache.size >= MAX_MEMO) cache.clear();
			cache.set(key, v);
		}
		return v;
	};
}

/** Turns each finished request into counters and histograms (a RequestRecord listener). */
export function requestMetricsListener(reg: MetricsRegistry) {
	const routeLabels = memo((route: string) => labels({ route }));
	const requestLabels = memo((route: string, model: string | null, provider: string | null, status: number) =>
		labels({ route, model, provider, status }),
	);
	const tokenLabels = memo((model: string, kind: string) => labels({ model, kind }));
	const modelLabels = memo((model: string | null) => labels({ model }));
	const upstreamLabels = memo((provider: string | null, account: string | null, code: string) =>
		labels({ provider, account, code }),
	);
	const providerLabels = memo((provider: string | null) => labels({ provider }));
	return (ev: UsageEvent): void => {
		const route = routeLabels(ev.endpoint);
		reg.inc(
			"interchange_requests_total",
			"Client requests by route, model, provider and status",
			requestLabels(ev.endpoint, ev.model, ev.provider, ev.status),
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
			reg.inc("interchange_tokens_total", help, tokenLabels(m, "prompt"), ev.prompt_tokens);
			reg.inc("interchange_tokens_total", help, tokenLabels(m, "completion"), ev.completion_tokens);
			if (ev.cached_tokens) reg.inc("interchange_tokens_total", help, tokenLabels(m, "cached"), ev.cached_tokens);
		}
		if (ev.cost_usd > 0) reg.inc("interchange_cost_usd_total", "Cost in USD by model", modelLabels(ev.model), ev.cost_usd);
		if (ev.error_code?.startsWith("UPSTREAM_")) {
			reg.inc(
				"interchange_upstream_errors_total",
				"Requests that ended in an upstream error, by provider, account and code",
				upstreamLabels(ev.provider, ev.account, ev.error_code),
			);
		}
		if (ev.attempts > 1) {
			reg.inc("interchange_failovers_total", "Extra upstream attempts made by failover", providerLabels(ev.provider), ev.attempts - 1);
		}
	};
}
