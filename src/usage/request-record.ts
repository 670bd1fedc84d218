import { normalizeUsage, type TokenUsage } from "./token-usage.ts";
import type { UsageEvent } from "./usage-event.ts";

export interface UsageSink {
	write(event: UsageEvent): void;
}

export interface PriceLookup {
	/** Null when the model has no price. */
	costUsd(model: string, usage: TokenUsage): number | null;
}

/** Observers of finished requests (metrics, the per-request log line). */
export type RecordListener = (event: UsageEvent) => void;

/**
 * The one usage emitter. Each client request owns one record; whatever path the request
 * takes (success, error, broken or abandoned stream), `finish` sends exactly one event.
 */
export class RequestRecord {
	readonly event: UsageEvent;
	private readonly startedAt: number;
	private finished = false;
	/** Called once after the event was emitted (drain accounting). */
	onFinish: (() => void) | null = null;
	/** Told once the event was handed to the sink, with when the handoff began (the request's trace). */
	onWrite: ((event: UsageEvent, handoffStartedAt: number) => void) | null = null;

	constructor(
		private readonly sink: UsageSink,
		private readonly prices: PriceLookup,
		private readonly listeners: readonly RecordListener[],
		init: {
			requestId: string;
			clientRequestId: string | null;
			endpoint: string;
			userAgent: string | null;
			startedAt: number;
		},
	) {
		this.startedAt = init.startedAt;
		this.event = {
			request_id: init.requestId,
			client_request_id: init.clientRequestId,
			ts: Date.now(),
			key_id: null,
			tenant_id: null,
			endpoint: init.endpoint,
			requested_model: null,
			provider: null,
			account: null,
			model: null,
			stream: false,
			status: 0,
			error_code: null,
			attempts: 0,
			latency_ms: 0,
			ttft_ms: null,
			prompt_tokens: 0,
			completion_tokens: 0,
			cached_tokens: 0,
			cache_write_tokens: 0,
			reasoning_tokens: 0,
			total_tokens: 0,
			cost_usd: 0,
			incomplete: false,
			user_agent: init.userAgent,
			usage_source: "upstream",
		};
	}

	get isFinished(): boolean {
		return this.finished;
	}

	finish(status: number, errorCode: string | null, usage: TokenUsage | null, extra?: Partial<UsageEvent>): void {
		if (this.finished) return;
		this.finished = true;
		const ev = this.event;
		if (extra) Object.assign(ev, extra);
		ev.status = status;
		ev.error_code = errorCode;
		ev.latency_ms = Math.round(performance.now() - this.startedAt);
		if (usage) {
			usage = normalizeUsage(usage);
			ev.prompt_tokens = usage.prompt_tokens;
			ev.completion_tokens = usage.completion_tokens;
			ev.cached_tokens = usage.cached_tokens;
			ev.cache_write_tokens = usage.cache_write_tokens;
			ev.reasoning_tokens = usage.reasoning_tokens;
			ev.total_tokens = usage.total_tokens || usage.prompt_tokens + usage.completion_tokens;
			if (ev.model) ev.cost_usd = this.prices.costUsd(ev.model, usage);
		}
		const onWrite = this.onWrite;
		if (onWrite === null) this.sink.write(ev);
		else {
			const handoffStartedAt = performance.now();
			this.sink.write(ev);
			onWrite(ev, handoffStartedAt);
		}
		for (const l of this.listeners) l(ev);
		this.onFinish?.();
	}
}
