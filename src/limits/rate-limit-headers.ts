/**
 * OpenAI's rate-limit response headers. Resets are Go-style durations as OpenAI sends them:
 * `120ms`, `1s`, `1.5s`, `6m0s`, `1h2m3s`.
 */

export interface RateLimitState {
	limit: number;
	remaining: number;
	/** Ms until the window is full again. */
	resetMs: number;
}

export type HeaderRecord = Record<string, string>;

/** Formats a duration in ms the way OpenAI's `x-ratelimit-reset-*` headers do. */
export function formatResetDuration(ms: number): string {
	if (!Number.isFinite(ms) || ms <= 0) return "0s";
	const total = Math.ceil(ms);
	if (total < 1000) return `${total}ms`;
	const hours = Math.floor(total / 3_600_000);
	const minutes = Math.floor((total % 3_600_000) / 60_000);
	const millis = total % 60_000;
	const whole = Math.floor(millis / 1000);
	const frac = millis % 1000;
	const seconds = frac === 0 ? `${whole}` : `${whole}.${String(frac).padStart(3, "0").replace(/0+$/, "")}`;
	if (hours > 0) return `${hours}h${minutes}m${seconds}s`;
	if (minutes > 0) return `${minutes}m${seconds}s`;
	return `${seconds}s`;
}

/**
 * Adds `x-ratelimit-{limit,remaining,reset}-{requests,tokens}` for the windows that are
 * enforced (an absent window adds no headers) to `into`, and returns it.
 */
export function rateLimitHeaders(
	requests: RateLimitState | undefined,
	tokens: RateLimitState | undefined,
	into: HeaderRecord = {},
): HeaderRecord {
	if (requests) {
		into["x-ratelimit-limit-requests"] = String(requests.limit);
		into["x-ratelimit-remaining-requests"] = String(Math.max(0, Math.floor(requests.remaining)));
		into["x-ratelimit-reset-requests"] = formatResetDuration(requests.resetMs);
	}
	if (tokens) {
		into["x-ratelimit-limit-tokens"] = String(tokens.limit);
		into["x-ratelimit-remaining-tokens"] = String(Math.max(0, Math.floor(tokens.remaining)));
		into["x-ratelimit-reset-tokens"] = formatResetDuration(tokens.resetMs);
	}
	return into;
}
