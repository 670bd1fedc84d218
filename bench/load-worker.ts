/**
 * Closed-loop load driver, run in its own process by runLoad (`bun bench/load-worker.ts
 * '<LoadSpec JSON>'`): `concurrency` workers each send a request, read the whole body,
 * and send the next; prints one LoadResult JSON line on stdout.
 */
import type { LoadResult, LoadSpec } from "./load-types.ts";
import { encodeRequest, RawHttpConnection } from "./raw-http-client.ts";

function percentile(sorted: Float64Array, p: number): number {
	if (sorted.length === 0) return 0;
	const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
	return sorted[i];
}

function round(n: number): number {
	return Math.round(n * 100) / 100;
}

class Samples {
	private data = new Float64Array(1 << 16);
	length = 0;
	push(v: number): void {
		if (this.length === this.data.length) {
			const bigger = new Float64Array(this.data.length * 2);
			bigger.set(this.data);
			this.data = bigger;
		}
		this.data[this.length++] = v;
	}
	sorted(): Float64Array {
		return this.data.slice(0, this.length).sort();
	}
}

export async function drive(spec: LoadSpec): Promise<LoadResult> {
	const method = spec.method ?? "POST";
	const timeoutMs = spec.timeoutMs ?? 10_000;
	const maxRequests = spec.maxRequests ?? 5_000_000;
	const tail = spec.expectTail ? new TextEncoder().encode(spec.expectTail) : null;
	const latencies = new Samples();
	const ttfbs = new Samples();
	const errorSamples = new Set<string>();
	let errors = 0;
	let bytes = 0;
	let measuring = false;
	let stop = false;
	let measured = 0;
	const noteError = (what: string) => {
		if (!measuring) return;
		errors++;
		if (errorSamples.size < 5) errorSamples.add(what);
	};

	const record = (t0: number, ttfb: number, size: number) => {
		if (!measuring || stop) return;
		latencies.push(performance.now() - t0);
		ttfbs.push(ttfb);
		bytes += size;
		measured++;
	};

	const target = new URL(spec.url);
	const rawRequest = encodeRequest(target, method, spec.headers ?? {}, spec.body);
	const chunkedTail = tail ? new Uint8Array([...tail, 13, 10, 48, 13, 10, 13, 10]) : null;
	const oneRaw = async (conn: RawHttpConnection): Promise<void> => {
		const t0 = performance.now();
		try {
			const res = await conn.request(rawRequest, timeoutMs);
			if (res.status !== 200) {
				noteError(`HTTP ${res.status}: ${new TextDecoder().decode(res.body.subarray(0, 160))}`);
				return;
			}
			const want = res.chunked ? chunkedTail : tail;
			if (want && !endsWith(res.body, want)) {
				noteError(`body does not end with ${JSON.stringify(spec.expectTail)}`);
				return;
			}
			record(t0, res.ttfb, res.body.length);
		} catch (e) {
			noteError(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
		}
	};

	const one = async (): Promise<void> => {
		const t0 = performance.now();
		try {
			const res = await fetch(spec.url, {
				method,
				headers: spec.headers,
				body: spec.body,
				signal: AbortSignal.timeout(timeoutMs),
			});
			const t1 = performance.now();
			const buf = new Uint8Array(await res.arrayBuffer());
			if (res.status !== 200) {
				noteError(`HTTP ${res.status}: ${new TextDecoder().decode(buf.subarray(0, 160))}`);
				return;
			}
			if (tail && !endsWith(buf, tail)) {
				noteError(`body does not end with ${JSON.stringify(spec.expectTail)}`);
				return;
			}
			record(t0, t1 - t0, buf.length);
		} catch (e) {
			noteError(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
		}
	};

	const loop = async () => {
		if (spec.client === "raw") {
			const conn = new RawHttpConnection(target.hostname, Number(target.port || 80));
			try {
				while (!stop && measured < maxRequests) await oneRaw(conn);
			} finally {
				conn.close();
			}
			return;
		}
		while (!stop && measured < maxRequests) await one();
	};

	const workers = Array.from({ length: spec.concurrency }, loop);
	await Bun.sleep(spec.warmupSeconds * 1000);
	measuring = true;
	const started = performance.now();
	await Promise.race([Bun.sleep(spec.seconds * 1000), waitUntil(() => measured >= maxRequests)]);
	const elapsed = (performance.now() - started) / 1000;
	measuring = false;
	stop = true;
	// In-flight requests finish (bounded by timeoutMs) but are no longer counted.
	await Promise.all(workers);

	const sorted = latencies.sorted();
	return {
		requests: measured,
		errors,
		errorSamples: [...errorSamples],
		seconds: round(elapsed),
		rps: round(measured / elapsed),
		p50: round(percentile(sorted, 50)),
		p90: round(percentile(sorted, 90)),
		p99: round(percentile(sorted, 99)),
		max: round(sorted.length ? sorted[sorted.length - 1] : 0),
		ttfbP50: round(percentile(ttfbs.sorted(), 50)),
		meanBytes: measured ? Math.round(bytes / measured) : 0,
	};
}

function endsWith(buf: Uint8Array, tail: Uint8Array): boolean {
	if (buf.length < tail.length) return false;
	const off = buf.length - tail.length;
	for (let i = 0; i < tail.length; i++) if (buf[off + i] !== tail[i]) return false;
	return true;
}

async function waitUntil(pred: () => boolean): Promise<void> {
	while (!pred()) await Bun.sleep(50);
}

if (import.meta.main) {
	const spec = JSON.parse(process.argv[2] ?? "{}") as LoadSpec;
	const result = await drive(spec);
	process.stdout.write(`${JSON.stringify(result)}\n`);
	process.exit(0);
}
