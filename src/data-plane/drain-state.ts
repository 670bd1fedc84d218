/**
 * Counts data-plane requests in flight in one worker and tells the drain when the last one
 * ended. While draining, new data-plane requests are refused with a retryable 503 (the
 * listener stays open so /readyz can answer 503 at once, as load balancers expect).
 */
export class DrainState {
	draining = false;
	private inflight = 0;
	private idle: (() => void) | null = null;

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
