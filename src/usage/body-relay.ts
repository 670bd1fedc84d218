import type { RequestBodyEvent, RequestBodySink } from "./request-body-event.ts";

/** How long captured bodies wait in the HTTP worker before crossing to the supervisor. */
const BATCH_MS = 20;

/**
 * Worker-side sink for captured bodies: batched, posted to the supervisor (which hands them to
 * the body writer), never awaited. Bounded: past `maxPending` events waiting for the next post,
 * new ones are dropped and counted (`onDrop`): body logging never holds memory or a request.
 * Separate from the usage relay, so usage rows never wait behind bodies.
 */
export class BodyRelay implements RequestBodySink {
	private pending: RequestBodyEvent[] = [];
	private timer: ReturnType<typeof setTimeout> | null = null;

	constructor(
		private readonly post: (events: RequestBodyEvent[]) => void,
		private readonly onDrop: () => void,
		private readonly maxPending = 500,
	) {}

	write(event: RequestBodyEvent): void {
		if (this.pending.length >= this.maxPending) {
			this.onDrop();
			return;
		}
		this.pending.push(event);
		this.timer ??= setTimeout(() => this.flushNow(), BATCH_MS);
	}

	flushNow(): void {
		if (this.timer) {
			clearTimeout(this.timer);
			this.timer = null;
		}
		if (this.pending.length === 0) return;
		const events = this.pending;
		this.pending = [];
		this.post(events);
	}
}
