/**
 * One request's bodies on their way to request_bodies, as the HTTP worker hands them over:
 * references and raw bytes only. Decoding, stream reassembly, redaction and the size cap all
 * happen on the body writer's thread (src/usage/body-writer.ts).
 */
export interface RequestBodyEvent {
	request_id: string;
	/** Epoch ms: the usage row's `ts`. */
	ts: number;
	key_id: string | null;
	/** The JSON body as received; null for an upload. */
	request: string | null;
	response: CapturedResponse | null;
}

export type CapturedResponse =
	/** A whole answer (JSON as sent, or the gateway's error). */
	| { kind: "text"; text: string }
	| { kind: "bytes"; bytes: Uint8Array }
	/** A stream's upstream SSE chunks, to be reassembled; `truncated` when the capture cap cut it. */
	| { kind: "sse"; chunks: Uint8Array[]; truncated: boolean };

export interface RequestBodySink {
	write(event: RequestBodyEvent): void;
}
