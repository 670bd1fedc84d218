import { StreamContent } from "../usage/stream-content.ts";
import type { RelayResult } from "./relay-stream.ts";

export interface ByteRelayOptions {
	body: ReadableStream<Uint8Array>;
	/** performance.now() when the client request arrived. */
	startedAt: number;
	/** Aborts the upstream fetch (called when the client leaves). */
	abortUpstream: () => void;
	/** Called exactly once, when the body ends for any reason. */
	onEnd: (result: RelayResult) => void;
}

/**
 * Relays a non-event body (audio) chunk by chunk, read only when the client's side wants more,
 * so a slow client slows the upstream read. Unlike the SSE relay there are no events to frame:
 * no keepalives, and a broken upstream ends the response with an error (the client sees a
 * truncated body, not bytes the gateway made up).
 */
export function relayBytes(opts: ByteRelayOptions): ReadableStream<Uint8Array> {
	const reader = opts.body.getReader();
	let ended = false;
	let ttftMs: number | null = null;
	const end = (r: Pick<RelayResult, "completed" | "cancelled" | "errorCode">) => {
		if (ended) return;
		ended = true;
		// audio carries no token count to estimate from: the row keeps what the upstream said (none)
		opts.onEnd({ ...r, ttftMs, usage: null, usageFinal: true, content: new StreamContent() });
	};
	return new ReadableStream<Uint8Array>(
		{
			async pull(controller) {
				let chunk: Awaited<ReturnType<typeof reader.read>>;
				try {
					chunk = await reader.read();
				} catch {
					end({ completed: false, cancelled: false, errorCode: "UPSTREAM_STREAM_BROKEN" });
					controller.error(new Error("The upstream connection broke mid-body"));
					return;
				}
				if (chunk.done) {
					end({ completed: true, cancelled: false, errorCode: null });
					controller.close();
					return;
				}
				if (ttftMs === null) ttftMs = performance.now() - opts.startedAt;
				controller.enqueue(chunk.value);
			},
			cancel() {
				reader.cancel().catch(() => {});
				opts.abortUpstream();
				end({ completed: false, cancelled: true, errorCode: "CLIENT_CLOSED_REQUEST" });
			},
		},
		{ highWaterMark: 0 },
	);
}
