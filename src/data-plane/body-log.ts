import type { LogBodies } from "../config/logging-config.ts";
import type { CapturedResponse, RequestBodySink } from "../usage/request-body-event.ts";
import type { UsageEvent } from "../usage/usage-event.ts";

/**
 * Raw stream bytes kept per body byte stored: SSE framing spends ~150 bytes of JSON per token,
 * so a stream's reassembled text reaches `max_body_bytes` from about this many times its size.
 */
const STREAM_CAPTURE_FACTOR = 16;

/**
 * One request's body log: whether its bodies are kept (`log_bodies` of its key, else tenant,
 * else `[logging]`), and the hand-off of what was captured. Only references and copies cross
 * to the body writer; decoding, stream reassembly and redaction happen there.
 */
export class BodyLog {
	private sent = false;

	private constructor(
		private readonly sink: RequestBodySink,
		private readonly mode: Exclude<LogBodies, "none">,
		private readonly ev: UsageEvent,
		private readonly request: string | null,
		/** Raw stream bytes to keep references to (0 = keep none). */
		readonly streamKeepBytes: number,
	) {}

	/** Null when the request's bodies are not logged (the common case: nothing else is done). */
	static for(
		sink: RequestBodySink | undefined,
		mode: LogBodies,
		ev: UsageEvent,
		request: string | null,
		maxBodyBytes: number,
	): BodyLog | null {
		if (!sink || mode === "none") return null;
		return new BodyLog(sink, mode, ev, request, maxBodyBytes * STREAM_CAPTURE_FACTOR);
	}

	/** Called once the request has its status; `errors` keeps only failed (or broken-off) ones. */
	finish(status: number, errorCode: string | null, response: CapturedResponse | null): void {
		if (this.sent) return;
		this.sent = true;
		if (this.mode === "errors" && status < 400 && errorCode === null) return;
		const ev = this.ev;
		this.sink.write({ request_id: ev.request_id, ts: ev.ts, key_id: ev.key_id, request: this.request, response });
	}
}
