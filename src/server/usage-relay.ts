import type { UsageSink } from "../usage/request-record.ts";
import type { UsageEvent } from "../usage/usage-event.ts";

/**
 * Worker-side usage sink: events collect in an array and cross to the supervisor as one
 * postMessage per microtask, so requests finishing together cost one structured clone.
 * Message order is kept, so everything written before `flushNow()` arrives before what
 * the worker posts after it (the drain relies on this).
 */
export class UsageRelay implements UsageSink {
	private pending: UsageEvent[] = [];
	private scheduled = false;

	constructor(private readonly post: (events: UsageEvent[]) => void) {}

	write(event: UsageEvent): void {
		this.pending.push(event);
		if (!this.scheduled) {
			this.scheduled = true;
			queueMicrotask(() => this.flushNow());
		}
	}

	flushNow(): void {
		this.scheduled = false;
		if (this.pending.length === 0) return;
		const batch = this.pending;
		this.pending = [];
		this.post(batch);
	}
}
