import { type Deadline, deadlines } from "../routing/deadline-sweeper.ts";
import { StreamContent } from "../usage/stream-content.ts";
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
	/** `usage` is the upstream's closing count (false: none, or only the stream's opening count). */
	usageFinal: boolean;
	/** What the upstream generated, read only when usage must be estimated. */
	content: StreamContent;
}

export interface RelayOptions {
	body: ReadableStream<Uint8Array>;
	transform: StreamTransform;
	keepaliveMs: number;
	/** performance.now() when the client request arrived. */
	startedAt: number;
	/** Aborts the upstream fetch (called when the client leaves, unless finishOnAbort says otherwise). */
	abortUpstream: () => void;
	/**
	 * Asked when the client leaves: true reads the upstream to its end without a client (for
	 * its exact usage; it is still billed) instead of cancelling it (`usage.on_client_abort`).
	 */
	finishOnAbort?: () => boolean;
	/**
	 * Longest wait for an upstream byte (SSE comments do not count) before the stream is broken
	 * off in-band with UPSTREAM_TIMEOUT; time spent waiting on a slow client does not count.
	 */
	idleTimeoutMs?: number;
	/** Lets the owner break the stream off in-band from outside (the drain timeout); returns how to let go. */
	onInterrupt?: (interrupt: (message: string, code: string) => void) => () => void;
	/** Called exactly once, when the stream ends for any reason. */
	onEnd: (result: RelayResult) => void;
	/** Bytes of upstream chunks to keep references to for the request's body log (0 or absent: none). */
	keepBytes?: number;
}

const COLON = 0x3a;
const LF = 0x0a;
const CR = 0x0d;

/**
 * True when a chunk holds nothing but SSE comment lines (`: keepalive`): an upstream that
 * sends only those is still stalled. A data line split so that a chunk starts with ":" is
 * misread as a comment, which at worst delays the stall check by one chunk.
 */
function onlyComments(chunk: Uint8Array): boolean {
	if (chunk[0] !== COLON) return false;
	let lineStart = true;
	for (let i = 0; i < chunk.length; i++) {
		const b = chunk[i];
		if (lineStart && b !== COLON && b !== LF && b !== CR) return false;
		lineStart = b === LF;
	}
	return true;
}

/**
 * Pipes an upstream SSE body to the client through a transform, as a Bun "direct" stream:
 * each upstream chunk is written straight to the client's socket and flushed (no queue, no
 * per-chunk promise of the standard stream machinery: measured 5–6 µs less CPU per stream).
 * A write the socket cannot take at once returns a promise, and the loop waits on it before
 * it reads the upstream again, so a slow client applies backpressure all the way to the
 * upstream socket. A client that leaves cancels the upstream read at once; a broken upstream
 * becomes an in-band error event and the stream closes without a completion sentinel.
 * Meant for `new Response(stream)`: a JS reader would get every chunk at once, unthrottled.
 */
export function relayStream(opts: RelayOptions): ReadableStream<Uint8Array> {
	const { transform } = opts;
	const reader = opts.body.getReader();
	let sink: ReadableStreamDirectController | null = null;
	let ended = false;
	let ttftMs: number | null = null;
	let lastSend = performance.now();
	let blocked: Promise<number> | null = null;
	let stall: Deadline | null = null;
	let letGo: (() => void) | null = null;
	const content = new StreamContent(opts.keepBytes);
	/** The client left and the upstream is read to its end for its usage: nothing more is written. */
	let detached = false;
	let detach: () => void = () => {};
	// only a relay that may read on without its client needs to wake a blocked write
	const whenDetached = opts.finishOnAbort
		? new Promise<void>((resolve) => {
				detach = resolve;
			})
		: null;

	const end = (r: Partial<RelayResult>) => {
		if (ended) return;
		ended = true;
		keepalives.remove(keepalive);
		if (stall) deadlines.remove(stall);
		letGo?.();
		try {
			sink?.close();
		} catch {
			// already closed by the runtime
		}
		const usage = transform.usage;
		opts.onEnd({
			completed: (r.completed ?? false) && !detached,
			cancelled: (r.cancelled ?? false) || detached,
			errorCode: detached ? "CLIENT_CLOSED_REQUEST" : (r.errorCode ?? null),
			ttftMs,
			usage,
			usageFinal: usage !== null && transform.usageFinal !== false,
			content,
		});
	};

	/**
	 * The client went away (cancel, or a write to a closed socket): stop the upstream too, or,
	 * when finishOnAbort says so, read it to its end unwritten. True when reading goes on.
	 */
	const clientGone = (): boolean => {
		if (ended) return false;
		if (detached) return true;
		if (opts.finishOnAbort?.()) {
			detached = true;
			detach();
			return true;
		}
		reader.cancel().catch(() => {});
		opts.abortUpstream();
		end({ cancelled: true, errorCode: "CLIENT_CLOSED_REQUEST" });
		return false;
	};

	const send = (bytes: Uint8Array) => {
		if (ttftMs === null) ttftMs = performance.now() - opts.startedAt;
		lastSend = performance.now();
		const written = (sink as ReadableStreamDirectController).write(bytes);
		if (typeof written !== "number") blocked = written;
	};

	/** Writes what a transform returned; false when it returned nothing. */
	const sendAll = (out: Uint8Array | Uint8Array[] | null): boolean => {
		if (out === null) return false;
		if (out instanceof Uint8Array) {
			if (out.byteLength === 0) return false;
			send(out);
			return true;
		}
		let any = false;
		for (const b of out) {
			if (b.byteLength) {
				send(b);
				any = true;
			}
		}
		return any;
	};

	const breakOff = (message: string, code = "UPSTREAM_STREAM_BROKEN") => {
		if (!transform.upstreamError && !detached) {
			// a partial event went out: end it first, or the error's lines would join its data
			if (!transform.atBoundary) send(EVENT_END);
			send(transform.errorEvent(message, code));
		}
		end({ errorCode: code });
	};

	/** Ends the stream in-band while the upstream is still open (stall, drain), and stops the upstream. */
	const interrupt = (message: string, code: string) => {
		if (ended || !sink) return;
		try {
			breakOff(message, code);
		} catch {
			// the client's socket is gone as well: the record is finished all the same
			end({ errorCode: code });
		}
		reader.cancel().catch(() => {});
		opts.abortUpstream();
	};

	const keepalive: KeepaliveTarget = {
		tick(now) {
			if (!sink || ended || detached || !transform.atBoundary || now - lastSend < opts.keepaliveMs) return;
			lastSend = now;
			try {
				sink.write(KEEPALIVE);
				sink.flush();
			} catch {
				// the socket closed between the check and the write; cancel follows
			}
		},
	};

	const idleMs = opts.idleTimeoutMs;
	/** Restarts the stall clock: the upstream is now the one being waited on. */
	const awaitUpstream = () => {
		if (stall) stall.at = performance.now() + (idleMs as number);
	};

	/** Until the upstream ends or the client leaves: read, transform, write, flush, wait if blocked. */
	const pump = async () => {
		for (;;) {
			let chunk: Awaited<ReturnType<typeof reader.read>>;
			try {
				chunk = await reader.read();
			} catch {
				if (!ended) breakOff("The upstream connection broke mid-stream");
				return;
			}
			if (ended) return;
			if (!chunk.done && !onlyComments(chunk.value)) awaitUpstream();
			if (chunk.done) {
				const tail = transform.finish();
				if (!detached) sendAll(tail);
				if (transform.completed && !transform.upstreamError) end({ completed: true });
				else breakOff("The upstream stream ended before completion");
				return;
			}
			content.push(chunk.value);
			const out = transform.push(chunk.value);
			if (detached) continue;
			if (sendAll(out)) {
				const flushed = (sink as ReadableStreamDirectController).flush();
				if (typeof flushed !== "number" || blocked) {
					// a slow client is not a stalled upstream: the clock waits with us
					if (stall) stall.at = Number.POSITIVE_INFINITY;
					// a client that leaves mid-wait releases the loop when the upstream is read on
					if (typeof flushed !== "number") await (whenDetached ? Promise.race([flushed, whenDetached]) : flushed);
					if (blocked) {
						await (whenDetached ? Promise.race([blocked, whenDetached]) : blocked);
						blocked = null;
					}
					awaitUpstream();
				}
			}
		}
	};

	const source: Bun.DirectUnderlyingSource<Uint8Array> = {
		type: "direct",
		async pull(controller) {
			sink = controller;
			keepalives.add(keepalive, opts.keepaliveMs);
			if (idleMs !== undefined) {
				stall = deadlines.add(performance.now() + idleMs, () =>
					interrupt(`The upstream sent nothing for ${idleMs} ms`, "UPSTREAM_TIMEOUT"),
				);
			}
			letGo = opts.onInterrupt?.(interrupt) ?? null;
			for (;;) {
				try {
					await pump();
					return;
				} catch {
					// a write to a socket that is gone: the record must still be finished, or the
					// upstream read on to its end (the next pump writes nothing)
					if (!clientGone()) return;
				}
			}
		},
		cancel: () => {
			clientGone();
		},
	};
	// lib.dom's constructor type (in scope here) does not know Bun's direct sources
	return new ReadableStream<Uint8Array>(source as unknown as UnderlyingDefaultSource<Uint8Array>);
}
