import { GatewayError } from "../errors/gateway-error.ts";
import { type FormBody, findFormFields, formBoundary } from "../protocols/form-data.ts";
import { FORM_OPERATIONS, type Operation } from "../protocols/operations.ts";
import { readBodyBytes } from "./read-body-bytes.ts";
import { readJsonBody } from "./read-json-body.ts";
import { type CommonFields, validateRequest } from "./request-schemas.ts";

export interface ClientRequest {
	/** The fields the gateway reads, validated. */
	body: CommonFields;
	/** A JSON body exactly as received ("" for a form). */
	raw: string;
	/** A multipart body, passed through as received. */
	form?: FormBody;
	/** Bytes received, for the token estimate of the limits. */
	size: number;
}

/** The text fields of an upload the gateway routes by. */
const FORM_FIELDS = ["model", "stream"] as const;

/**
 * Reads a client body within `maxBytes` as its operation expects it: JSON parsed once, or a
 * multipart upload kept as bytes with only its `model` and `stream` fields located; 408 when it
 * has not fully arrived by `deadlineAt` (performance.now() time).
 */
export async function readClientRequest(
	op: Operation,
	request: Request,
	maxBytes: number,
	deadlineAt?: number,
): Promise<ClientRequest> {
	if (!FORM_OPERATIONS.has(op)) {
		const { value, raw } = await readJsonBody(request, maxBytes, deadlineAt);
		return { body: validateRequest(op, value), raw, size: raw.length };
	}
	const contentType = request.headers.get("content-type");
	const boundary = formBoundary(contentType);
	if (!boundary) {
		throw new GatewayError(
			"PLATFORM_INVALID_REQUEST",
			"This endpoint takes a file upload: send multipart/form-data with a boundary",
		);
	}
	const bytes = await readBodyBytes(request, maxBytes, deadlineAt);
	const fields = findFormFields(bytes, boundary, FORM_FIELDS);
	const value: Record<string, unknown> = {};
	if (fields.model) value.model = fields.model.value;
	if (fields.stream) value.stream = fields.stream.value === "true";
	const form: FormBody = { bytes, contentType: contentType as string, fields };
	return { body: validateRequest(op, value), raw: "", form, size: bytes.byteLength };
}
