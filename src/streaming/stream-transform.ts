import type { TokenUsage } from "../usage/token-usage.ts";

/**
 * What the relay runs every upstream chunk through. A pass-through tap returns the chunk it
 * was given (same object: zero copy); translators return new bytes. `completed` says the
 * upstream reached its proper end (e.g. `[DONE]`, `message_stop`); `upstreamError` holds an
 * in-band error event the upstream sent.
 */
export interface StreamTransform {
	push(chunk: Uint8Array): Uint8Array | Uint8Array[] | null;
	/** Called once when the upstream body ends normally; returns trailing bytes. */
	finish(): Uint8Array[];
	/** Bytes that end a stream the gateway had to break off (an in-band error event). */
	errorEvent(message: string, code: string): Uint8Array;
	readonly usage: TokenUsage | null;
	/**
	 * False while `usage` holds only the count a stream reports at its start (Anthropic's
	 * message_start): the closing count has not arrived. Absent: a non-null usage is final.
	 */
	readonly usageFinal?: boolean;
	readonly completed: boolean;
	readonly upstreamError: { message: string; type?: string } | null;
	/** True when the last byte sent ended an event: a keepalive comment may go in here. */
	readonly atBoundary: boolean;
}
