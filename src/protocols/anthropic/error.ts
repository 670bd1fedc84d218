/** Anthropic's error body: `{"type":"error","error":{"type","message"}}`. */
export interface AnthropicErrorBody {
	type: "error";
	error: { type: string; message: string };
}

/** Anthropic error type for an HTTP status, as Anthropic itself pairs them. */
export function anthropicErrorType(status: number): string {
	switch (status) {
		case 400:
			return "invalid_request_error";
		case 401:
			return "authentication_error";
		case 402:
			return "billing_error";
		case 403:
			return "permission_error";
		case 404:
			return "not_found_error";
		case 409:
			return "conflict_error";
		case 413:
			return "request_too_large";
		case 429:
			return "rate_limit_error";
		case 503:
		case 529:
			return "overloaded_error";
		case 504:
			return "timeout_error";
		default:
			return status >= 500 ? "api_error" : "invalid_request_error";
	}
}

/** Anthropic error body for a gateway error (anything with a status and a message). */
export function anthropicErrorBody(err: { status: number; message: string; type?: string }): AnthropicErrorBody {
	return {
		type: "error",
		error: { type: anthropicErrorType(err.status), message: err.message },
	};
}

/** Best Anthropic error type for an OpenAI error type/code met inside a stream (no status there). */
export function anthropicErrorTypeFromOpenAI(type: string | undefined): string {
	if (!type) return "api_error";
	if (type.includes("rate_limit") || type === "insufficient_quota") return "rate_limit_error";
	if (type.includes("overloaded")) return "overloaded_error";
	if (type.includes("timeout")) return "timeout_error";
	if (type === "invalid_request_error" || type === "authentication_error" || type === "permission_error") {
		return type;
	}
	return "api_error";
}
