import { GatewayError } from "../errors/gateway-error.ts";

export interface JsonBody {
	value: Record<string, unknown>;
	/** The body exactly as received, for pass-through when nothing must change. */
	raw: string;
}

/** Reads and parses a JSON object body within `maxBytes`: 413 above it, 400 for anything not a JSON object. */
export async function readJsonBody(request: Request, maxBytes: number): Promise<JsonBody> {
	const lengthHeader = request.headers.get("content-length");
	const declared = lengthHeader === null ? -1 : Number(lengthHeader);
	if (declared > maxBytes) throw tooLarge(maxBytes);
	let raw: string;
	try {
		// a declared length within the limit is read at once; an undeclared (chunked) body is
		// counted as it arrives and cut off at the limit, so it cannot fill memory
		raw = declared >= 0 ? await request.text() : await readCapped(request, maxBytes);
	} catch (e) {
		if (e instanceof GatewayError) throw e;
		throw new GatewayError("PLATFORM_INVALID_REQUEST", "Could not read the request body");
	}
	if (raw.length > maxBytes || (raw.length * 3 > maxBytes && Buffer.byteLength(raw) > maxBytes)) {
		throw tooLarge(maxBytes);
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

async function readCapped(request: Request, maxBytes: number): Promise<string> {
	if (!request.body) return "";
	const reader = request.body.getReader();
	const parts: Uint8Array[] = [];
	let total = 0;
	for (;;) {
		const { done, value } = await reader.read();
		if (done) break;
		total += value.byteLength;
		if (total > maxBytes) {
			reader.cancel().catch(() => {});
			throw tooLarge(maxBytes);
		}
		parts.push(value);
	}
	return Buffer.concat(parts).toString("utf8");
}

function tooLarge(max: number): GatewayError {
	return new GatewayError("PLATFORM_PAYLOAD_TOO_LARGE", `The request body exceeds the limit of ${max} bytes`);
}
