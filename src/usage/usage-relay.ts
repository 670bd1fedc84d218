import { copyLine } from "./copy-line.ts";
import type { UsageSink } from "./request-record.ts";
import type { UsageEvent } from "./usage-event.ts";

/** How long events may wait in the worker before crossing to the supervisor. */
const BATCH_MS = 2;

/**
 * Worker-side usage sink. Events are written as COPY lines (the text Postgres takes) as they
 * finish and cross to the supervisor as one string per couple of milliseconds: a string is
 * the cheapest thing to post between threads (measured about half the cost of
 * structured-cloning the objects on each side), and neither the supervisor nor the audit
 * writer parses it: the writer streams it to Postgres as it is.
 * Message order is kept, so everything written before `flushNow()` arrives before what the
 * worker posts after it (the drain relies on this).
 */
export class UsageRelay implements UsageSink {
	private pending = "";
	private count = 0;
	private timer: ReturnType<typeof setTimeout> | null = null;

	constructor(private readonly post: (lines: string, count: number) => void) {}

	write(event: UsageEvent): void {
		this.pending += copyLine(event);
		this.count++;
		if (!this.timer) this.timer = setTimeout(() => this.flushNow(), BATCH_MS);
	}

	flushNow(): void {
		if (this.timer) {
			clearTimeout(this.timer);
			this.timer = null;
		}
		if (this.count === 0) return;
		const batch = this.pending;
		const count = this.count;
		this.pending = "";
		this.count = 0;
		this.post(batch, count);
	}
}
