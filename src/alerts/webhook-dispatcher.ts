import type { AlertEvent, AlertFormat, AlertsPolicy } from "../config/alerts-config.ts";
import type { UpstreamTargetGuard } from "../providers/upstream-target-guard.ts";
import type { Alert } from "./alert.ts";
import { renderPayload, SIGNATURE_HEADER, signPayload } from "./webhook-payload.ts";

/** A webhook as the dispatcher sends to it (TOML or admin API; the secret opened). */
export interface WebhookTarget {
	/** `config:<n>` or the admin API's id. */
	id: string;
	url: string;
	/** Null = every event. */
	events: readonly AlertEvent[] | null;
	format: AlertFormat;
	secret: string | null;
}

interface Delivery {
	target: WebhookTarget;
	alert: Alert;
	body: string;
	attempt: number;
}

export interface DispatcherStats {
	/** Deliveries a webhook accepted (2xx). */
	sent: number;
	/** Attempts that failed (each retry counts). */
	failedAttempts: number;
	/** Deliveries given up on after the last attempt. */
	failed: number;
	/** Deliveries dropped because the queue was full. */
	dropped: number;
}

export interface DispatcherOptions {
	policy: AlertsPolicy;
	/** In production: refuses private, loopback and link-local addresses at send time (names can change answers). */
	guard?: UpstreamTargetGuard;
	fetch?: typeof fetch;
	onGiveUp?: (target: WebhookTarget, alert: Alert, reason: string) => void;
}

/** Sends at once at most this many deliveries. */
const PARALLEL = 4;

/**
 * Delivers alerts to webhooks off every request path (it runs in the supervisor): a bounded
 * queue, a few sends at a time, and for each failed attempt (an error, a timeout, a non-2xx
 * answer, a redirect: none is followed) a retry after an exponential backoff, up to
 * `max_attempts`. Every attempt of one alert carries the same alert id.
 */
export class WebhookDispatcher {
	private readonly queue: Delivery[] = [];
	private active = 0;
	private readonly timers = new Set<ReturnType<typeof setTimeout>>();
	private readonly counters: DispatcherStats = { sent: 0, failedAttempts: 0, failed: 0, dropped: 0 };
	private readonly fetchFn: typeof fetch;
	private stopped = false;

	constructor(private readonly opts: DispatcherOptions) {
		this.fetchFn = opts.fetch ?? fetch;
	}

	stats(): DispatcherStats {
		return { ...this.counters };
	}

	/** Queues the alert for every target that wants its event. */
	dispatch(alert: Alert, targets: readonly WebhookTarget[]): void {
		for (const target of targets) {
			if (target.events && !target.events.includes(alert.event)) continue;
			this.enqueue({ target, alert, body: renderPayload(alert, target.format), attempt: 1 });
		}
	}

	/** Drops what is queued and scheduled (shutdown); sends in flight finish on their own. */
	stop(): void {
		this.stopped = true;
		for (const t of this.timers) clearTimeout(t);
		this.timers.clear();
		this.queue.length = 0;
	}

	private enqueue(d: Delivery): void {
		if (this.stopped) return;
		if (this.queue.length >= this.opts.policy.max_queue) {
			this.counters.dropped++;
			return;
		}
		this.queue.push(d);
		this.pump();
	}

	private pump(): void {
		while (this.active < PARALLEL && this.queue.length > 0) {
			const d = this.queue.shift() as Delivery;
			this.active++;
			void this.send(d).finally(() => {
				this.active--;
				this.pump();
			});
		}
	}

	private async send(d: Delivery): Promise<void> {
		const failure = await this.attempt(d);
		if (failure === null) {
			this.counters.sent++;
			return;
		}
		this.counters.failedAttempts++;
		const p = this.opts.policy;
		if (d.attempt >= p.max_attempts || this.stopped) {
			this.counters.failed++;
			this.opts.onGiveUp?.(d.target, d.alert, failure);
			return;
		}
		// 1×, 2×, 4×… the base, with up to 20% jitter so retries to one receiver spread out
		const delay = p.retry_base_ms * 2 ** (d.attempt - 1) * (1 + Math.random() * 0.2);
		const timer = setTimeout(() => {
			this.timers.delete(timer);
			this.enqueue({ ...d, attempt: d.attempt + 1 });
		}, delay);
		this.timers.add(timer);
	}

	/** Null when the webhook took it, else why not. */
	private async attempt(d: Delivery): Promise<string | null> {
		try {
			if (this.opts.guard) {
				const host = new URL(d.target.url).hostname.replace(/^\[|\]$/g, "");
				const blocked = await this.opts.guard.addressBlocked(host);
				if (blocked) return `the webhook's host points at a private, loopback or link-local address (${blocked})`;
			}
			const headers: Record<string, string> = {
				"content-type": "application/json",
				"user-agent": "interchange-alerts",
				"x-interchange-alert-id": d.alert.id,
				"x-interchange-alert-attempt": String(d.attempt),
			};
			if (d.target.secret) headers[SIGNATURE_HEADER] = signPayload(d.target.secret, d.body);
			const res = await this.fetchFn(d.target.url, {
				method: "POST",
				headers,
				body: d.body,
				redirect: "manual",
				signal: AbortSignal.timeout(this.opts.policy.timeout_ms),
			});
			await res.arrayBuffer().catch(() => {});
			return res.status >= 200 && res.status < 300 ? null : `HTTP ${res.status}`;
		} catch (err) {
			return String((err as Error)?.message ?? err);
		}
	}
}
