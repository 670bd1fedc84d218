import { ConfigError } from "./config-error.ts";
import {
	expectObj,
	int,
	num,
	type Obj,
	optStr,
	rejectUnknown,
	resolveSecret,
	str,
	strList,
	tableList,
} from "./validate.ts";

/** What an alert can be about; a webhook without `events` gets every one. */
export const ALERT_EVENTS = [
	/** A key's or tenant's spend crossed 50, 80 or 100% of its budget. */
	"budget",
	/** An upstream answered 401/403: the account is out of rotation until re-enabled or re-checked. */
	"account_disabled",
	/** An account was passively ejected after consecutive failures. */
	"account_ejected",
	/** An account's error rate over the window passed `alerts_policy.error_rate_threshold`. */
	"error_rate",
	/** Usage rows are going to the spool file (Postgres is not taking them) and the spool grows. */
	"audit_spool",
	/** Postgres refused usage rows for their data; they were set aside in the dead letter. */
	"dead_letter",
] as const;
export type AlertEvent = (typeof ALERT_EVENTS)[number];

export const ALERT_FORMATS = ["json", "slack"] as const;
export type AlertFormat = (typeof ALERT_FORMATS)[number];

export interface AlertWebhookConfig {
	url: string;
	/** Null = every event. */
	events: AlertEvent[] | null;
	format: AlertFormat;
	/** Signs each body (HMAC-SHA256, `x-interchange-signature: sha256=<hex>`). */
	secret?: string;
}

export interface AlertsPolicy {
	/** An account's failed share of attempts over `error_rate_window_ms` above which `error_rate` fires. */
	error_rate_threshold: number;
	error_rate_window_ms: number;
	/** Fewer attempts than this in the window never fire `error_rate` (one failure of two is not a trend). */
	error_rate_min_requests: number;
	/** How often the evaluator reads the shared counters. */
	interval_ms: number;
	/** Sends per alert and webhook, the first included; waits double from `retry_base_ms`. */
	max_attempts: number;
	retry_base_ms: number;
	/** A webhook call slower than this is a failed attempt. */
	timeout_ms: number;
	/** Alerts waiting to be sent; beyond it new ones are dropped and counted. */
	max_queue: number;
}

export function isAlertEvent(v: unknown): v is AlertEvent {
	return (ALERT_EVENTS as readonly unknown[]).includes(v);
}

/** Checks the shape of a webhook (TOML or admin API); the SSRF check is the caller's (it may resolve names). */
export function checkWebhookFields(
	w: { url: string; events?: readonly string[] | null; format?: string },
	path: string,
): void {
	let url: URL;
	try {
		url = new URL(w.url);
	} catch {
		throw new ConfigError(`${path}.url`, "must be an absolute http(s) URL");
	}
	if (url.protocol !== "http:" && url.protocol !== "https:")
		throw new ConfigError(`${path}.url`, "must use http or https");
	if (url.username || url.password) throw new ConfigError(`${path}.url`, "must not carry credentials; use `secret`");
	for (const e of w.events ?? []) {
		if (!isAlertEvent(e))
			throw new ConfigError(`${path}.events`, `unknown event "${e}" (one of ${ALERT_EVENTS.join(", ")})`);
	}
	if (w.format !== undefined && !(ALERT_FORMATS as readonly string[]).includes(w.format)) {
		throw new ConfigError(`${path}.format`, `must be one of ${ALERT_FORMATS.join(", ")}, got "${w.format}"`);
	}
}

/** `[[alerts]]` tables. */
export function parseAlertWebhooks(root: Obj, env: Record<string, string | undefined>): AlertWebhookConfig[] {
	return tableList(root, "alerts", "").map((a, i) => {
		const path = `alerts[${i}]`;
		rejectUnknown(a, ["url", "events", "format", "secret"], path);
		const events = a.events === undefined ? null : strList(a, "events", `${path}.`);
		const w = {
			url: str(a, "url", `${path}.`),
			events: events as AlertEvent[] | null,
			format: str(a, "format", `${path}.`, "json") as AlertFormat,
			secret: resolveSecret(optStr(a, "secret", `${path}.`), `${path}.secret`, env),
		};
		checkWebhookFields(w, path);
		return w;
	});
}

/** `[alerts_policy]`. */
export function parseAlertsPolicy(raw: unknown): AlertsPolicy {
	const o = expectObj(raw, "alerts_policy");
	const p = "alerts_policy.";
	rejectUnknown(
		o,
		[
			"error_rate_threshold",
			"error_rate_window_ms",
			"error_rate_min_requests",
			"interval_ms",
			"max_attempts",
			"retry_base_ms",
			"timeout_ms",
			"max_queue",
		],
		"alerts_policy",
	);
	const threshold = num(o, "error_rate_threshold", p, 0.5);
	if (threshold <= 0 || threshold > 1)
		throw new ConfigError(`${p}error_rate_threshold`, "must be above 0 and at most 1");
	return {
		error_rate_threshold: threshold,
		error_rate_window_ms: int(o, "error_rate_window_ms", p, 60_000, 1_000, 86_400_000),
		error_rate_min_requests: int(o, "error_rate_min_requests", p, 20, 1, 1_000_000),
		interval_ms: int(o, "interval_ms", p, 1_000, 50, 600_000),
		max_attempts: int(o, "max_attempts", p, 5, 1, 20),
		retry_base_ms: int(o, "retry_base_ms", p, 1_000, 10, 600_000),
		timeout_ms: int(o, "timeout_ms", p, 5_000, 100, 120_000),
		max_queue: int(o, "max_queue", p, 1_000, 1, 1_000_000),
	};
}
