import { GatewayError } from "../errors/gateway-error.ts";
import { payloadTooLarge, readCappedBody, within } from "./read-body-bytes.ts";

const utf8 = new TextDecoder();

export interface JsonBody {
	value: Record<string, unknown>;
	/** The body exactly as received, for pass-through when nothing must change. */
	raw: string;
}

/**
 * Reads and parses a JSON object body within `maxBytes`: 413 above it, 400 for anything not a
 * JSON object, 408 when it has not fully arrived by `deadlineAt` (performance.now() time).
 */
export async function readJsonBody(request: Request, maxBytes: number, deadlineAt?: number): Promise<JsonBody> {
	const lengthHeader = request.headers.get("content-length");
	const declared = lengthHeader === null ? -1 : Number(lengthHeader);
	if (declared > maxBytes) throw payloadTooLarge(maxBytes);
	let raw: string;
	try {
		// a declared length within the limit is read at once; an undeclared (chunked) body is
		// counted as it arrives and cut off at the limit, so it cannot fill memory
		const reading = declared >= 0 ? request.text() : readCappedBody(request, maxBytes).then((b) => utf8.decode(b));
		raw = await (deadlineAt === undefined ? reading : within(reading, deadlineAt));
	} catch (e) {
		if (e instanceof GatewayError) throw e;
		throw new GatewayError("PLATFORM_INVALID_REQUEST", "Could not read the request body");
	}
	if (raw.length > maxBytes || (raw.length * 3 > maxBytes && Buffer.byteLength(raw) > maxBytes)) {
		throw payloadTooLarge(maxBytes);
	}
	if (raw.length === 0)
		throw new GatewayError("PLATFORM_INVALID_JSON", "The request body is empty; send a JSON object");
	let value: unknown;
	try {
		value = JSON.parse(raw);
	} catch (e) {
		throw new GatewayError("PLATFORM_INVALID_JSON", `The request body is not valid JSON: ${(e as Error).message}`);
	}
	if (typeof value !== "object" || value === null || Array.isArray(value)) {
		throw new GatewayError("PLATFORM_INVALID_JSON", "The request body must be a JSON object");
	}
	return { value: value as Record<string, unknown>, raw };
}
