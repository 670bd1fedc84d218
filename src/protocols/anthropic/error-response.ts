import { errorHeaders, toGatewayError } from "../../errors/error-response.ts";
import { anthropicErrorBody } from "./error.ts";

/**
 * The same errors, in Anthropic's shape, for the /v1/messages ingress: Anthropic SDKs parse
 * `{"type":"error","error":{"type","message"},"request_id"}`. The stable gateway code rides
 * along in `error.code`, which Anthropic clients ignore.
 */
export function anthropicErrorResponse(err: unknown, requestId: string): Response {
	const e = toGatewayError(err);
	const body = anthropicErrorBody(e);
	return new Response(JSON.stringify({ ...body, error: { ...body.error, code: e.code }, request_id: requestId }), {
		status: e.status,
		headers: errorHeaders(e, requestId),
	});
}
