import type { TokenUsage } from "../usage/token-usage.ts";
import { type KeepaliveTarget, keepalives } from "./keepalive-ticker.ts";
import type { StreamTransform } from "./stream-transform.ts";

const KEEPALIVE = new TextEncoder().encode(": keepalive\n\n");
const EVENT_END = new TextEncoder().encode("\n\n");

export interface RelayResult {
	/** The upstream reached its proper end and the client got all of it. */
	completed: boolean;
	/** The client went away before the end. */
	cancelled: boolean;
	/** Gateway error code when the stream was broken off; null otherwise. */
	errorCode: string | null;
	/** Milliseconds from `startedAt` to the first byte handed to the client. */
	ttftMs: number | null;
	usage: TokenUsage | null;
}

export interface RelayOptions {
	body: ReadableStream<Uint8Array>;
	transform: StreamTransform;
	keepaliveMs: number;
	/** performance.now() when the client request arrived. */
	startedAt: number;
	/** Aborts the upstream fetch (called when the client leaves). */
	abortUpstream: () => void;
	/** Called exactly once, when the stream ends for any reason. */
	onEnd: (result: RelayResult) => void;
}

/**
 * Pipes an upstream SSE body to the client through a transform. Pull-based, so a slow
 * client applies backpressure all the way to the upstream socket; a client that leaves
 * cancels the upstream read at once; a broken upstream becomes an in-band error event and
 * the stream closes without a completion sentinel.
 */
export function relayStream(opts: RelayOptions): ReadableStream<Uint8Array> {
	const { transform } = opts;
	const reader = opts.body.getReader();
	let ended = false;
	let ttftMs: number | null = null;
	let lastSend = performance.now();
	let keepalive: KeepaliveTarget | undefined;

	const end = (controller: ReadableStreamDefaultController<Uint8Array> | null, r: Partial<RelayResult>) => {
		if (ended) return;
		ended = true;
		if (keepalive) keepalives.remove(keepalive);
		if (controller) {
			try {
				controller.close();
			} catch {
				// already closed by the runtime
			}
		}
		opts.onEnd({
			completed: r.completed ?? false,
			cancelled: r.cancelled ?? false,
			errorCode: r.errorCode ?? null,
			ttftMs,
			usage: transform.usage,
		});
	};

	const send = (controller: ReadableStreamDefaultController<Uint8Array>, bytes: Uint8Array) => {
		if (ttftMs === null) ttftMs = performance.now() - opts.startedAt;
		lastSend = performance.now();
		controller.enqueue(bytes);
	};

	/** Enqueues what a transform returned; false when it returned nothing. */
	const sendAll = (
		controller: ReadableStreamDefaultController<Uint8Array>,
		out: Uint8Array | Uint8Array[] | null,
	): boolean => {
		if (out === null) return false;
		if (out instanceof Uint8Array) {
			if (out.byteLength === 0) return false;
			send(controller, out);
			return true;
		}
		let any = false;
		for (const b of out) {
			if (b.byteLength) {
				send(controller, b);
				any = true;
			}
		}
		return any;
	};

	const breakOff = (controller: ReadableStreamDefaultController<Uint8Array>, message: string) => {
		if (!transform.upstreamError) {
			// a partial event went out: end it first, or the error's lines would join its data
			if (!transform.atBoundary) send(controller, EVENT_END);
			send(controller, transform.errorEvent(message, "UPSTREAM_STREAM_BROKEN"));
		}
		end(controller, { errorCode: "UPSTREAM_STREAM_BROKEN" });
	};

	return new ReadableStream<Uint8Array>(
		{
			start(controller) {
				keepalive = {
					tick(now) {
						if (ended || !transform.atBoundary || now - lastSend < opts.keepaliveMs) return;
						lastSend = now;
						try {
							controller.enqueue(KEEPALIVE);
						} catch {
							// stream closed between the check and the enqueue
						}
					},
				};
				keepalives.add(keepalive, opts.keepaliveMs);
			},
			async pull(controller) {
				for (;;) {
					let chunk: Awaited<ReturnType<typeof reader.read>>;
					try {
						chunk = await reader.read();
					} catch {
						if (!ended) breakOff(controller, "The upstream connection broke mid-stream");
						return;
					}
					if (ended) return;
					if (chunk.done) {
						sendAll(controller, transform.finish());
						if (transform.completed && !transform.upstreamError) end(controller, { completed: true });
						else breakOff(controller, "The upstream stream ended before completion");
						return;
					}
					if (sendAll(controller, transform.push(chunk.value))) return;
				}
			},
			cancel() {
				if (ended) return;
				reader.cancel().catch(() => {});
				opts.abortUpstream();
				end(null, { cancelled: true, errorCode: "CLIENT_CLOSED_REQUEST" });
			},
		},
		{ highWaterMark: 0 },
	);
}
