/**
 * A minimal HTTP/1.1 keep-alive client on Bun.connect, for the load driver only: one
 * connection, one request at a time, pre-encoded request bytes. It understands exactly
 * what the benchmark targets send back: content-length or chunked bodies without trailers.
 */
import type { Socket } from "bun";

export interface RawResponse {
	status: number;
	/** Time from send to the end of the headers (ms). */
	ttfb: number;
	/** Body bytes (chunk framing left in for chunked replies). */
	body: Uint8Array;
	chunked: boolean;
}

interface Pending {
	resolve(r: RawResponse): void;
	reject(e: Error): void;
	sentAt: number;
}

const CRLFCRLF = Buffer.from("\r\n\r\n");
const CHUNKED_END = Buffer.from("0\r\n\r\n");

export class RawHttpConnection {
	private socket: Socket<undefined> | null = null;
	private buf: Buffer = Buffer.alloc(0);
	private pending: Pending | null = null;
	private headerEnd = -1;
	private status = 0;
	private contentLength = -1;
	private chunked = false;
	private ttfb = 0;

	constructor(
		private readonly host: string,
		private readonly port: number,
	) {}

	private async connect(): Promise<Socket<undefined>> {
		const self = this;
		this.socket = await Bun.connect({
			hostname: this.host,
			port: this.port,
			socket: {
				data(_s, data) {
					self.onData(data);
				},
				close() {
					self.socket = null;
					self.fail(new Error("connection closed"));
				},
				error(_s, err) {
					self.socket = null;
					self.fail(err);
				},
			},
		});
		return this.socket;
	}

	private fail(e: Error): void {
		const p = this.pending;
		this.pending = null;
		p?.reject(e);
	}

	private onData(data: Buffer): void {
		this.buf = this.buf.length === 0 ? data : Buffer.concat([this.buf, data]);
		const p = this.pending;
		if (!p) return;
		if (this.headerEnd < 0) {
			const i = this.buf.indexOf(CRLFCRLF);
			if (i < 0) return;
			this.headerEnd = i + 4;
			this.ttfb = performance.now() - p.sentAt;
			const head = this.buf.subarray(0, i).toString("latin1");
			this.status = Number(head.slice(9, 12));
			const cl = /\r\ncontent-length:\s*(\d+)/i.exec(head);
			this.contentLength = cl ? Number(cl[1]) : -1;
			this.chunked = /\r\ntransfer-encoding:\s*chunked/i.test(head);
		}
		const body = this.buf.subarray(this.headerEnd);
		let done = false;
		let used = 0;
		if (this.contentLength >= 0) {
			done = body.length >= this.contentLength;
			used = this.contentLength;
		} else if (this.chunked) {
			// Assumes no trailers and one reply at a time: the reply ends where the buffer ends.
			done = body.length >= 5 && body.subarray(body.length - 5).equals(CHUNKED_END);
			used = body.length;
		}
		if (!done) return;
		const r: RawResponse = {
			status: this.status,
			ttfb: this.ttfb,
			body: body.subarray(0, used),
			chunked: this.chunked,
		};
		this.buf = Buffer.from(body.subarray(used));
		this.headerEnd = -1;
		this.pending = null;
		p.resolve(r);
	}

	/** Bodies are small: one write is enough on loopback. A timeout drops the connection. */
	async request(bytes: Uint8Array, timeoutMs = 10_000): Promise<RawResponse> {
		const socket = this.socket ?? (await this.connect());
		this.buf = Buffer.alloc(0);
		this.headerEnd = -1;
		return new Promise<RawResponse>((resolve, reject) => {
			const timer = setTimeout(() => {
				this.fail(new Error(`no reply within ${timeoutMs} ms`));
				this.close();
			}, timeoutMs);
			this.pending = {
				resolve: (r) => {
					clearTimeout(timer);
					resolve(r);
				},
				reject: (e) => {
					clearTimeout(timer);
					reject(e);
				},
				sentAt: performance.now(),
			};
			socket.write(bytes);
		});
	}

	close(): void {
		this.socket?.end();
		this.socket = null;
	}
}

/** Pre-encodes a request for RawHttpConnection. */
export function encodeRequest(url: URL, method: string, headers: Record<string, string>, body?: string): Uint8Array {
	const payload = body === undefined ? Buffer.alloc(0) : Buffer.from(body);
	const lines = [`${method} ${url.pathname}${url.search} HTTP/1.1`, `host: ${url.host}`, "connection: keep-alive"];
	for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
	if (body !== undefined) lines.push(`content-length: ${payload.length}`);
	return Buffer.concat([Buffer.from(`${lines.join("\r\n")}\r\n\r\n`), payload]);
}
