import type { UsageEvent } from "../usage/usage-event.ts";
import { labels, type MetricsRegistry } from "./registry.ts";

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

const MAX_MEMO = 10_000;

/**
 * Rendered label sets are memoised by a cheap key: the same few route/model/provider/status
 * combinations repeat on every request, and escaping them each time showed up in profiles.
 */
class LabelMemo {
	private readonly cache = new Map<string, unknown>();
	get<T>(key: string, render: () => T): T {
		let v = this.cache.get(key) as T | undefined;
		if (v === undefined) {
			v = render();
			if (this.cache.size >= MAX_MEMO) this.cache.clear();
			this.cache.set(key, v);
		}
		return v;
	}
}

/** The label sets one request shape (route, model, provider, status) writes to. */
interface ShapeLabels {
	/** Latency and time to first token: route, model and provider. */
	latency: string;
	request: string;
	prompt: string;
	completion: string;
	cached: string;
	model: string;
}

/** The label value of every model that is neither configured nor known. */
export const OTHER_MODEL = "other";

/** Whether a provider's model may be a label value: configured or known, not whatever a client sent. */
export type KnownModel = (provider: string, model: string) => boolean;

/**
 * Turns each finished request into counters and histograms (a RequestRecord listener).
 * Label values come only from configuration (routes, providers, accounts, known models):
 * a provider that accepts any model would otherwise let clients mint one series per
 * made-up name, and /metrics and memory would grow without bound.
 */
export function requestMetricsListener(reg: MetricsRegistry, knownModel: KnownModel) {
	const memo = new LabelMemo();
	const modelLabel = (ev: UsageEvent): string =>
		ev.model === null ? "" : ev.provider !== null && knownModel(ev.provider, ev.model) ? ev.model : OTHER_MODEL;
	// one lookup per request: every label set of the request's shape rendered together
	const shapeLabels = (ev: UsageEvent): ShapeLabels => {
		const m = modelLabel(ev);
		return memo.get(`${ev.endpoint}\u0000${m}\u0000${ev.provider}\u0000${ev.status}`, () => ({
			latency: labels({ route: ev.endpoint, model: m, provider: ev.provider }),
			request: labels({ route: ev.endpoint, model: m, provider: ev.provider, status: ev.status }),
			prompt: labels({ model: m, kind: "prompt" }),
			completion: labels({ model: m, kind: "completion" }),
			cached: labels({ model: m, kind: "cached" }),
			model: labels({ model: m }),
		}));
	};
	const upstreamLabels = (provider: string | null, account: string | null, code: string) =>
		memo.get(`u\u0000${provider}\u0000${account}\u0000${code}`, () => labels({ provider, account, code }));
	const providerLabels = (provider: string | null) => memo.get(`p\u0000${provider}`, () => labels({ provider }));
	return (ev: UsageEvent): void => {
		const l = shapeLabels(ev);
		reg.inc("interchange_requests_total", "Client requests by route, model, provider and status", l.request);
		reg.observe(
			"interchange_request_duration_seconds",
			"Client request latency (to the last byte), by route, model and provider",
			LATENCY_BUCKETS,
			l.latency,
			ev.latency_ms / 1000,
		);
		if (ev.ttft_ms !== null) {
			reg.observe(
				"interchange_time_to_first_token_seconds",
				"Time to the first streamed byte, by route, model and provider",
				LATENCY_BUCKETS,
				l.latency,
				ev.ttft_ms / 1000,
			);
		}
		if (ev.total_tokens > 0) {
			const help = "Tokens by model and kind";
			reg.inc("interchange_tokens_total", help, l.prompt, ev.prompt_tokens);
			reg.inc("interchange_tokens_total", help, l.completion, ev.completion_tokens);
			if (ev.cached_tokens) reg.inc("interchange_tokens_total", help, l.cached, ev.cached_tokens);
		}
		if (ev.cost_usd === null) {
			reg.inc("interchange_unpriced_requests_total", "Requests whose model has no price (cost unknown)", l.model);
		} else if (ev.cost_usd > 0) reg.inc("interchange_cost_usd_total", "Cost in USD by model", l.model, ev.cost_usd);
		if (ev.error_code?.startsWith("UPSTREAM_")) {
			reg.inc(
				"interchange_upstream_errors_total",
				"Requests that ended in an upstream error, by provider, account and code",
				upstreamLabels(ev.provider, ev.account, ev.error_code),
			);
		}
		if (ev.attempts > 1) {
			reg.inc(
				"interchange_failovers_total",
				"Extra upstream attempts made by failover",
				providerLabels(ev.provider),
				ev.attempts - 1,
			);
		}
	};
}
