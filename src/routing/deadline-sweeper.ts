/** One pending deadline; `at` and `onExpire` may be changed while it is registered. */
export interface Deadline {
	at: number;
	onExpire: () => void;
}

/**
 * Request deadlines checked by one coarse interval per thread instead of a timer per
 * request: registering is a Set insert, and the interval only runs while something is
 * pending. Granularity is `intervalMs` (timeouts here are seconds long).
 */
export class DeadlineSweeper {
	private readonly pending = new Set<Deadline>();
	private timer: ReturnType<typeof setInterval> | null = null;

	constructor(
		private readonly intervalMs = 20,
		private readonly now: () => number = () => performance.now(),
	) {}

	add(at: number, onExpire: () => void): Deadline {
		const d: Deadline = { at, onExpire };
		this.pending.add(d);
		if (!this.timer) {
			this.timer = setInterval(() => this.sweep(), this.intervalMs);
			this.timer.unref?.();
		}
		return d;
	}

	remove(d: Deadline): void {
		this.pending.delete(d);
	}

	get size(): number {
		return this.pending.size;
	}

	sweep(): void {
		const now = this.now();
		for (const d of this.pending) {
			if (d.at <= now) {
				this.pending.delete(d);
				d.onExpire();
			}
		}
		if (this.pending.size === 0 && this.timer) {
			clearInterval(this.timer);
			this.timer = null;
		}
	}
}

/** The thread's shared sweeper. */
export const deadlines = new DeadlineSweeper();
