import type { ErrorCode } from "../errors/codes.ts";

/** Breaks one open stream off with an in-band error event. */
export type StreamInterrupt = (message: string, code: ErrorCode) => void;

/**
 * Counts data-plane requests in flight in one worker and tells the drain when the last one
 * ended. While draining, new data-plane requests are refused with a retryable 503 (the
 * listener stays open so /readyz can answer 503 at once, as load balancers expect). Open
 * streams are tracked so that the drain timeout can end them in-band instead of resetting
 * their connections.
 */
export class DrainState {
	draining = false;
	private inflight = 0;
	private idle: (() => void) | null = null;
	private readonly streams = new Set<StreamInterrupt>();

	get inFlight(): number {
		return this.inflight;
	}

	begin(): void {
		this.inflight++;
	}

	end(): void {
		this.inflight--;
		if (this.inflight === 0 && this.idle) {
			const resolve = this.idle;
			this.idle = null;
			resolve();
		}
	}

	/** Tracks an open stream until the returned function is called. */
	track(interrupt: StreamInterrupt): () => void {
		this.streams.add(interrupt);
		return () => this.streams.delete(interrupt);
	}

	/** The drain timeout: every open stream gets an in-band error and ends (its usage is recorded). */
	interruptStreams(): void {
		for (const interrupt of [...this.streams]) {
			interrupt("The gateway is shutting down: the stream was cut at the drain timeout", "PLATFORM_SHUTTING_DOWN");
		}
	}

	/** Starts draining; resolves when nothing is in flight, or false after `timeoutMs`. */
	drain(timeoutMs: number): Promise<boolean> {
		this.draining = true;
		if (this.inflight === 0) return Promise.resolve(true);
		return new Promise<boolean>((resolve) => {
			const timer = setTimeout(() => {
				this.idle = null;
				resolve(false);
			}, timeoutMs);
			this.idle = () => {
				clearTimeout(timer);
				resolve(true);
			};
		});
	}
}
