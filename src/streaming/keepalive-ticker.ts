/** A stream that may need a keepalive comment; `tick` decides and sends. */
export interface KeepaliveTarget {
	tick(now: number): void;
}

/**
 * One interval per thread for every open stream's keepalive check, instead of a timer per
 * stream (timers were a visible per-request cost). Runs only while streams are open.
 */
export class KeepaliveTicker {
	private readonly targets = new Set<KeepaliveTarget>();
	private timer: ReturnType<typeof setInterval> | null = null;

	add(target: KeepaliveTarget, keepaliveMs: number): void {
		this.targets.add(target);
		if (!this.timer) {
			this.timer = setInterval(() => this.tick(), Math.max(25, Math.floor(keepaliveMs / 2)));
			this.timer.unref?.();
		}
	}

	remove(target: KeepaliveTarget): void {
		this.targets.delete(target);
		if (this.targets.size === 0 && this.timer) {
			clearInterval(this.timer);
			this.timer = null;
		}
	}

	private tick(): void {
		const now = performance.now();
		for (const t of this.targets) t.tick(now);
	}
}

export const keepalives = new KeepaliveTicker();
