/**
 * `bun run bench:memory`: the gateway's resident memory (all threads) under
 *  1. N concurrent slow streams (default 2,000 streams of ~30 s: 20 chunks, one every 1.5 s);
 *  2. a client that reads nothing while the upstream sends 100 MB (backpressure must hold).
 * Env: MEM_STREAMS (2000), MEM_CHUNK_MS (1500), MEM_FLOOD_MB (100).
 * The client side needs BUN_CONFIG_MAX_HTTP_REQUESTS above the stream count (the script sets it).
 */
import { startMockUpstream } from "../test/support/mock-upstream.ts";
import { runBench, startGateway } from "./gateway-process.ts";
import { rssMb } from "./process-rss.ts";

const STREAMS = Number(process.env.MEM_STREAMS ?? 2000);
const CHUNK_MS = Number(process.env.MEM_CHUNK_MS ?? 1500);
const FLOOD_MB = Number(process.env.MEM_FLOOD_MB ?? 100);
const KEY = "bench-key";

/** An upstream that sends `mb` megabytes of SSE as fast as the reader takes them, then [DONE]. */
function floodUpstream(mb: number) {
	const event = new TextEncoder().encode(
		`data: ${JSON.stringify({ id: "x", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta: { content: "y".repeat(65_000) }, finish_reason: null }] })}\n\n`,
	);
	const total = Math.ceil((mb * 1024 * 1024) / event.byteLength);
	return Bun.serve({
		port: 0,
		hostname: "127.0.0.1",
		fetch() {
			let sent = 0;
			return new Response(
				new ReadableStream<Uint8Array>({
					pull(c) {
						if (sent++ < total) c.enqueue(event);
						else {
							c.enqueue(new TextEncoder().encode("data: [DONE]\n\n"));
							c.close();
						}
					},
				}),
				{ headers: { "content-type": "text/event-stream" } },
			);
		},
	});
}

async function main(): Promise<void> {
	const mock = await startMockUpstream({ fast: false, record: false });
	const flood = floodUpstream(FLOOD_MB);
	const config = `/tmp/interchange-mem-${process.pid}.toml`;
	await Bun.write(
		config,
		`[server]
keepalive_interval_ms = 15000
[auth]
static_keys = ["${KEY}"]
[[providers]]
name = "slow"
type = "openai"
base_url = "${mock.url}/v1"
models = ["slow-model"]
api_key = "bench-drip${CHUNK_MS}"
[[providers]]
name = "flood"
type = "custom"
base_url = "http://127.0.0.1:${flood.port}/v1"
models = ["flood-model"]
api_key = "x"
`,
	);
	const gw = await startGateway({ GATEWAY_CONFIG: config });
	const pid = gw.pid;
	const samples: number[] = [];
	const sampler = setInterval(() => samples.push(rssMb(pid)), 1000);
	const idle = rssMb(pid);
	try {
		// 1. many slow streams at once
		const t0 = performance.now();
		let failed = 0;
		let completed = 0;
		await Promise.all(
			Array.from({ length: STREAMS }, async (_, i) => {
				try {
					const res = await fetch(`${gw.url}/v1/chat/completions`, {
						method: "POST",
						headers: {
							authorization: `Bearer ${KEY}`,
							"content-type": "application/json",
						},
						body: JSON.stringify({
							model: "slow-model",
							stream: true,
							max_tokens: 20,
							messages: [{ role: "user", content: `stream ${i}` }],
						}),
					});
					const text = await res.text();
					if (res.status === 200 && text.trimEnd().endsWith("data: [DONE]")) completed++;
					else failed++;
				} catch {
					failed++;
				}
			}),
		);
		const streamSeconds = (performance.now() - t0) / 1000;
		const peakStreams = Math.max(...samples);
		console.log(
			`${STREAMS} concurrent streams: ${completed} completed, ${failed} failed in ${streamSeconds.toFixed(1)} s; gateway RSS idle ${idle} MB, peak ${peakStreams} MB`,
		);

		// 2. a client that reads nothing while the upstream floods
		const before = rssMb(pid);
		samples.length = 0;
		const url = new URL(gw.url);
		const body = JSON.stringify({
			model: "flood-model",
			stream: true,
			messages: [{ role: "user", content: "flood" }],
		});
		const socket = await Bun.connect({
			hostname: url.hostname,
			port: Number(url.port),
			socket: { data() {}, open() {}, close() {}, error() {} },
		});
		socket.pause?.();
		socket.write(
			`POST /v1/chat/completions HTTP/1.1\r\nhost: ${url.host}\r\nauthorization: Bearer ${KEY}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
		);
		// give the upstream ample time to push everything it could
		await Bun.sleep(8_000);
		const stalledPeak = Math.max(before, ...samples);
		console.log(
			`stalled client vs ${FLOOD_MB} MB upstream: gateway RSS before ${before} MB, peak ${stalledPeak} MB (growth ${stalledPeak - before} MB)`,
		);
		socket.end();
		console.log(
			JSON.stringify({
				streams: STREAMS,
				completed,
				failed,
				stream_seconds: Number(streamSeconds.toFixed(1)),
				rss_idle_mb: idle,
				rss_peak_streams_mb: peakStreams,
				rss_before_flood_mb: before,
				rss_peak_flood_mb: stalledPeak,
			}),
		);
	} finally {
		clearInterval(sampler);
		await gw.stop();
		flood.stop(true);
		await mock.stop();
	}
}

await runBench(main);
