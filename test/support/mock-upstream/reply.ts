/** What an endpoint builder returns; the server turns it into bytes. */

/** One complete SSE frame (ending in a blank line); `content` frames count for break/midError. */
export interface SseFrame {
	text: string;
	content: boolean;
}

export type Reply =
	| {
			kind: "json";
			status: number;
			body: unknown;
			headers?: Record<string, string>;
	  }
	| { kind: "sse"; frames: SseFrame[]; midErrorFrame: string }
	| { kind: "bytes"; contentType: string; bytes: Uint8Array<ArrayBuffer> }
	| { kind: "text"; contentType: string; text: string };

/** Per-request values that make ids and timestamps. */
export interface ReplyContext {
	seq: number;
	nowSeconds: number;
	embeddingDims: number;
	/** Chat answer length when the request sets no cap. */
	answerWords?: number;
	models: readonly string[];
}

export function dataFrame(payload: unknown, content = false): SseFrame {
	return { text: `data: ${JSON.stringify(payload)}\n\n`, content };
}

export function namedFrame(event: string, payload: unknown, content = false): SseFrame {
	return {
		text: `event: ${event}\ndata: ${JSON.stringify(payload)}\n\n`,
		content,
	};
}

export function json(body: unknown, status = 200, headers?: Record<string, string>): Reply {
	return { kind: "json", status, body, headers };
}

/** The reply with every prompt/input token count turned into a fraction (N → N.5). */
export function withFractionalUsage(reply: Reply): Reply {
	const frac = (text: string) => text.replace(/"(input_tokens|prompt_tokens)":(\d+)/g, '"$1":$2.5');
	if (reply.kind === "json") return { ...reply, body: JSON.parse(frac(JSON.stringify(reply.body))) };
	if (reply.kind !== "sse") return reply;
	return { ...reply, frames: reply.frames.map((f) => ({ ...f, text: frac(f.text) })) };
}
