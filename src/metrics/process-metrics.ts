import { heapStats } from "bun:jsc";
import { labels, type MetricsRegistry } from "./registry.ts";

const SAMPLE_EVERY_MS = 250;
const WINDOW_MS = 10_000;

/**
 * Event-loop lag of one thread: a timer due every 250 ms notes how late it fires. The gauge
 * is the worst delay in the current and the previous 10 s window, so a stall shows for 10–20 s
 * whoever scrapes and however often. The timer is unref'd: it never keeps a thread alive.
 */
export class EventLoopLag {
	private worst = 0;
	private previousWorst = 0;
	private windowEndsAt = 0;
	private timer: ReturnType<typeof setInterval> | null = null;

	start(): this {
		let expected = performance.now() + SAMPLE_EVERY_MS;
		this.windowEndsAt = expected + WINDOW_MS;
		this.timer = setInterval(() => {
			const now = performance.now();
			const late = Math.max(0, now - expected);
			expected = now + SAMPLE_EVERY_MS;
			if (now >= this.windowEndsAt) {
				this.previousWorst = this.worst;
				this.worst = 0;
				this.windowEndsAt = now + WINDOW_MS;
			}
			if (late > this.worst) this.worst = late;
		}, SAMPLE_EVERY_MS);
		this.timer.unref();
		return this;
	}

	/** Worst lag over the last 10–20 s, in seconds. */
	seconds(): number {
		return Math.max(this.worst, this.previousWorst) / 1000;
	}

	stop(): void {
		if (this.timer) clearInterval(this.timer);
		this.timer = null;
	}
}

/**
 * One thread's own JavaScript heap and event-loop lag, labelled by thread: every HTTP worker
 * and the supervisor has its own heap and loop, and distinct labels keep the supervisor's
 * sum of worker snapshots from adding them up. Read at scrape time only.
 */
export function recordThreadMetrics(reg: MetricsRegistry, thread: string, lag: EventLoopLag): void {
	const l = labels({ thread });
	const heap = heapStats();
	reg.set("interchange_heap_used_bytes", "JavaScript heap in use, per thread", l, heap.heapSize);
	reg.set("interchange_heap_capacity_bytes", "JavaScript heap reserved, per thread", l, heap.heapCapacity);
	reg.set("interchange_heap_objects", "Live JavaScript objects, per thread", l, heap.objectCount);
	reg.set(
		"interchange_event_loop_lag_seconds",
		"Worst event-loop delay over the last 10-20 s, per thread",
		l,
		lag.seconds(),
	);
}

const startTimeSeconds = Math.round((performance.timeOrigin / 1000) * 1000) / 1000;

/** Process-wide figures (the usual `process_*` names), written once by the supervisor. */
export function recordProcessMetrics(reg: MetricsRegistry): void {
	const mem = process.memoryUsage();
	reg.set("process_resident_memory_bytes", "Resident memory of the whole process (all threads)", "", mem.rss);
	const cpu = process.cpuUsage();
	reg.set(
		"process_cpu_seconds_total",
		"User and system CPU time of the whole process",
		"",
		(cpu.user + cpu.system) / 1e6,
		"counter",
	);
	reg.set("process_start_time_seconds", "Process start time (Unix seconds)", "", startTimeSeconds);
}
