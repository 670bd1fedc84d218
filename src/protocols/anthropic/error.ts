import { asString, isObject } from "../json-value.ts";

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

/** OpenAI error type for an Anthropic one, for errors read from an Anthropic upstream. */
const OPENAI_TYPES: Readonly<Record<string, string>> = {
	invalid_request_error: "invalid_request_error",
	request_too_large: "invalid_request_error",
	not_found_error: "invalid_request_error",
	conflict_error: "invalid_request_error",
	authentication_error: "authentication_error",
	permission_error: "permission_error",
	billing_error: "insufficient_quota",
	rate_limit_error: "rate_limit_error",
	overloaded_error: "api_error",
	timeout_error: "api_error",
	api_error: "api_error",
};

export interface UpstreamErrorInfo {
	/** The upstream's own status; the caller maps it to the client status (PROTOCOLS.md). */
	status: number;
	message: string;
	/** OpenAI error type. */
	type: string;
	/** Anthropic's error type as sent, e.g. overloaded_error. */
	upstreamType: string;
}

/** Reads an Anthropic upstream error response (parsed JSON or raw text) for the OpenAI side. */
export function fromAnthropicError(status: number, body: unknown): UpstreamErrorInfo {
	let parsed = body;
	if (typeof body === "string") {
		try {
			parsed = JSON.parse(body);
		} catch {
			parsed = null;
		}
	}
	const err = isObject(parsed) && isObject(parsed.error) ? parsed.error : {};
	const upstreamType = asString(err.type) ?? anthropicErrorType(status);
	const fallback = typeof body === "string" && body.trim() ? body.trim().slice(0, 500) : `upstream error ${status}`;
	return {
		status,
		message: asString(err.message) ?? fallback,
		type: OPENAI_TYPES[upstreamType] ?? (status >= 500 ? "api_error" : "invalid_request_error"),
		upstreamType,
	};
}
