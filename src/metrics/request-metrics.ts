import type { UsageEvent } from "../usage/usage-event.ts";
import { labels, type MetricsRegistry } from "./registry.ts";

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

const MAX_MEMO = 10_000;

/**
 * Rendered label sets are memoised by a cheap key: the same few route/model/provider/status
 * combinations repeat on every request, and escaping them each time showed up in profiles.
 */
class LabelMemo {
	private readonly cache = new Map<string, string>();
	get(key: string, render: () => string): string {
		let v = this.cache.get(key);
		if (v === undefined) {
			v = render();
			if (this.cache.size >= MAX_MEMO) this.cache.clear();
			this.cache.set(key, v);
		}
		return v;
	}
}

/** Turns each finished request into counters and histograms (a RequestRecord listener). */
export function requestMetricsListener(reg: MetricsRegistry) {
	const memo = new LabelMemo();
	const routeLabels = (route: string) => memo.get(`r\u0000${route}`, () => labels({ route }));
	const requestLabels = (route: string, model: string | null, provider: string | null, status: number) =>
		memo.get(`q\u0000${route}\u0000${model}\u0000${provider}\u0000${status}`, () =>
			labels({ route, model, provider, status }),
		);
	const tokenLabels = (model: string, kind: string) => memo.get(`t\u0000${model}\u0000${kind}`, () => labels({ model, kind }));
	const modelLabels = (model: string | null) => memo.get(`m\u0000${model}`, () => labels({ model }));
	const upstreamLabels = (provider: string | null, account: string | null, code: string) =>
		memo.get(`u\u0000${provider}\u0000${account}\u0000${code}`, () => labels({ provider, account, code }));
	const providerLabels = (provider: string | null) => memo.get(`p\u0000${provider}`, () => labels({ provider }));
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
