/**
 * Open-loop load, free of coordinated omission: request i is due at t0 + i/rate whatever
 * happened to the ones before it, and its latency is measured from that due time, not from
 * when a connection happened to be free. A due request takes an idle keep-alive connection
 * or opens a new one; it never waits for one.
 * Run as `bun bench/open-loop-worker.ts '<json OpenLoopSpec>'`; prints one JSON result line.
 */
import { encodeRequest, RawHttpConnection } from "./raw-http-client.ts";

export interface OpenLoopSpec {
	url: string;
	path: string;
	body: unknown;
	headers: Record<string, string>;
	/** Requests per second. */
	rate: number;
	seconds: number;
	warmupSeconds: number;
}

export interface OpenLoopResult {
	rate: number;
	sent: number;
	completed: number;
	errors: number;
	connections: number;
	p50: number;
	p99: number;
	p999: number;
	ttfbP50: number;
	ttfbP99: number;
}

function percentile(sorted: Float64Array, p: number): number {
	if (sorted.length === 0) return 0;
	const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
	return Math.round(sorted[Math.max(0, i)] * 1000) / 1000;
}

export async function openLoop(spec: OpenLoopSpec): Promise<OpenLoopResult> {
	const url = new URL(spec.url);
	const bytes = encodeRequest(
		new URL(spec.path, url),
		"POST",
		{ "content-type": "application/json", ...spec.headers },
		JSON.stringify(spec.body),
	);
	const idle: RawHttpConnection[] = [];
	let connections = 0;
	const latencies: number[] = [];
	const ttfbs: number[] = [];
	let errors = 0;
	let completed = 0;
	const total = Math.round(spec.rate * (spec.seconds + spec.warmupSeconds));
	const warmup = Math.round(spec.rate * spec.warmupSeconds);
	const interval = 1000 / spec.rate;
	const t0 = performance.now() + 50;
	let next = 0;
	const inflight = new Set<Promise<void>>();

	const fire = (i: number, due: number) => {
		const conn =
			idle.pop() ??
			(() => {
				connections++;
				return new RawHttpConnection(url.hostname, Number(url.port));
			})();
		const sentAt = performance.now();
		const p = conn
			.request(bytes)
			.then((res) => {
				const now = performance.now();
				if (i >= warmup) {
					if (res.status === 200) {
						latencies.push(now - due);
						ttfbs.push(sentAt - due + res.ttfb);
						completed++;
					} else errors++;
				}
				idle.push(conn);
			})
			.catch(() => {
				if (i >= warmup) errors++;
				conn.close();
			})
			.finally(() => inflight.delete(p));
		inflight.add(p);
	};

	while (next < total) {
		const now = performance.now();
		while (next < total && t0 + next * interval <= now) {
			fire(next, t0 + next * interval);
			next++;
		}
		await Bun.sleep(Math.max(0, Math.min(1, t0 + next * interval - performance.now())));
	}
	await Promise.all(inflight);
	for (const c of idle) c.close();
	const lat = Float64Array.from(latencies).sort();
	const tt = Float64Array.from(ttfbs).sort();
	return {
		rate: spec.rate,
		sent: total - warmup,
		completed,
		errors,
		connections,
		p50: percentile(lat, 50),
		p99: percentile(lat, 99),
		p999: percentile(lat, 99.9),
		ttfbP50: percentile(tt, 50),
		ttfbP99: percentile(tt, 99),
	};
}

if (import.meta.main) {
	const spec = JSON.parse(process.argv[2] ?? "{}") as OpenLoopSpec;
	console.log(JSON.stringify(await openLoop(spec)));
	process.exit(0);
}
