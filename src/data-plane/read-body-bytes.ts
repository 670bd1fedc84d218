import { GatewayError } from "../errors/gateway-error.ts";
import { deadlines } from "../routing/deadline-sweeper.ts";
import { readCapped } from "../routing/read-upstream-body.ts";

export function payloadTooLarge(max: number): GatewayError {
	return new GatewayError("PLATFORM_PAYLOAD_TOO_LARGE", `The request body exceeds the limit of ${max} bytes`);
}

/**
 * The body's bytes within `maxBytes` (413 above it). A declared length within the limit is
 * read at once; an undeclared (chunked) body is counted as it arrives and cut off at the
 * limit, so it cannot fill memory.
 */
export async function readBodyBytes(
	request: Request,
	maxBytes: number,
	deadlineAt?: number,
): Promise<Uint8Array<ArrayBuffer>> {
	const lengthHeader = request.headers.get("content-length");
	const declared = lengthHeader === null ? -1 : Number(lengthHeader);
	if (declared > maxBytes) throw payloadTooLarge(maxBytes);
	let bytes: Uint8Array<ArrayBuffer>;
	try {
		const reading =
			declared >= 0 ? request.arrayBuffer().then((b) => new Uint8Array(b)) : readCappedBody(request, maxBytes);
		bytes = await (deadlineAt === undefined ? reading : within(reading, deadlineAt));
	} catch (e) {
		if (e instanceof GatewayError) throw e;
		throw new GatewayError("PLATFORM_INVALID_REQUEST", "Could not read the request body");
	}
	if (bytes.byteLength > maxBytes) throw payloadTooLarge(maxBytes);
	return bytes;
}

/** The request body's bytes, counted as they arrive: 413 past `maxBytes`. */
export async function readCappedBody(request: Request, maxBytes: number): Promise<Uint8Array<ArrayBuffer>> {
	const bytes = await readCapped(request.body, maxBytes);
	if (bytes === null) throw payloadTooLarge(maxBytes);
	return bytes;
}

/**
 * The read, or a 408 at the deadline (performance.now() time). On the thread's deadline
 * sweeper, not a timer per request (timers showed in profiles). A read left behind settles or
 * fails when the connection closes.
 */
export function within<T>(reading: Promise<T>, at: number): Promise<T> {
	return new Promise<T>((resolve, reject) => {
		const d = deadlines.add(at, () =>
			reject(new GatewayError("PLATFORM_REQUEST_TIMEOUT", "The request body did not arrive in time")),
		);
		reading.then(
			(v) => {
				deadlines.remove(d);
				resolve(v);
			},
			(e) => {
				deadlines.remove(d);
				reject(e);
			},
		);
	});
}
