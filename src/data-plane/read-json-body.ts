import { GatewayError } from "../errors/gateway-error.ts";

export interface JsonBody {
	value: Record<string, unknown>;
	/** The body exactly as received, for pass-through when nothing must change. */
	raw: string;
}

/** Reads and parses a JSON object body within `maxBytes`: 413 above it, 400 for anything not a JSON object. */
export async function readJsonBody(request: Request, maxBytes: number): Promise<JsonBody> {
	const declared = Number(request.headers.get("content-length") ?? "0");
	if (declared > maxBytes) throw tooLarge(maxBytes);
	let raw: string;
	try {
		raw = await request.text();
	} catch {
		throw new GatewayError("PLATFORM_INVALID_REQUEST", "Could not read the request body");
	}
	if (raw.length > maxBytes || Buffer.byteLength(raw) > maxBytes) throw tooLarge(maxBytes);
	if (raw.length === 0) throw new GatewayError("PLATFORM_INVALID_JSON", "The request body is empty; send a JSON object");
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

function tooLarge(max: number): GatewayError {
	return new GatewayError("PLATFORM_PAYLOAD_TOO_LARGE", `The request body exceeds the limit of ${max} bytes`);
}
