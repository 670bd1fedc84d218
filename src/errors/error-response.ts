import { GatewayError } from "./gateway-error.ts";

export interface ErrorBody {
	error: {
		message: string;
		type: string;
		param: string | null;
		code: string;
		request_id: string;
		retry_after?: number;
	};
}

/** Any thrown value → the GatewayError that stands for it (unknowns become a 500, message hidden). */
export function toGatewayError(err: unknown): GatewayError {
	if (err instanceof GatewayError) return err;
	return new GatewayError("PLATFORM_INTERNAL_ERROR", "Internal error", { cause: err });
}

export function errorBody(err: GatewayError, requestId: string): ErrorBody {
	const body: ErrorBody = {
		error: {
			message: err.message,
			type: err.type,
			param: err.param,
			code: err.code,
			request_id: requestId,
		},
	};
	if (err.retryAfterSeconds !== undefined) body.error.retry_after = err.retryAfterSeconds;
	return body;
}

export function errorHeaders(err: GatewayError, requestId: string): Record<string, string> {
	const headers: Record<string, string> = {
		"content-type": "application/json",
		"x-request-id": requestId,
		...err.headers,
	};
	if (!err.retryable) headers["x-should-retry"] = "false";
	if (err.retryAfterSeconds !== undefined) {
		headers["retry-after"] = String(Math.max(0, Math.ceil(err.retryAfterSeconds)));
		headers["retry-after-ms"] = String(Math.max(0, Math.round(err.retryAfterSeconds * 1000)));
	}
	return headers;
}

/** The one mapper from a gateway error to an OpenAI-shaped HTTP response. */
export function errorResponse(err: unknown, requestId: string): Response {
	const e = toGatewayError(err);
	return new Response(JSON.stringify(errorBody(e, requestId)), {
		status: e.status,
		headers: errorHeaders(e, requestId),
	});
}
