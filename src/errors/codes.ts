/**
 * The stable error codes the gateway itself produces. The README's table is generated from
 * this list by hand; keep them in step. Status is the HTTP status; type is OpenAI's error type.
 */
export const ERROR_CODES = {
	PLATFORM_INVALID_JSON: { status: 400, type: "invalid_request_error", retry: false },
	PLATFORM_INVALID_REQUEST: { status: 400, type: "invalid_request_error", retry: false },
	PLATFORM_AUTH_MISSING_API_KEY: { status: 401, type: "authentication_error", retry: false },
	PLATFORM_AUTH_INVALID_API_KEY: { status: 401, type: "authentication_error", retry: false },
	PLATFORM_AUTH_KEY_REVOKED: { status: 401, type: "authentication_error", retry: false },
	PLATFORM_AUTH_KEY_EXPIRED: { status: 401, type: "authentication_error", retry: false },
	PLATFORM_AUTH_UNAVAILABLE: { status: 503, type: "api_error", retry: true },
	PLATFORM_ADMIN_UNAUTHORIZED: { status: 401, type: "authentication_error", retry: false },
	/** Admin login (Ed25519 challenge-response) and admin sessions. */
	PLATFORM_ADMIN_KEY_UNKNOWN: { status: 401, type: "authentication_error", retry: false },
	PLATFORM_ADMIN_KEY_REVOKED: { status: 401, type: "authentication_error", retry: false },
	PLATFORM_ADMIN_CHALLENGE_EXPIRED: { status: 401, type: "authentication_error", retry: false },
	PLATFORM_ADMIN_CHALLENGE_REPLAYED: { status: 401, type: "authentication_error", retry: false },
	PLATFORM_ADMIN_BAD_SIGNATURE: { status: 401, type: "authentication_error", retry: false },
	PLATFORM_ADMIN_SESSION_EXPIRED: { status: 401, type: "authentication_error", retry: false },
	PLATFORM_ADMIN_SESSION_REVOKED: { status: 401, type: "authentication_error", retry: false },
	PLATFORM_METRICS_UNAUTHORIZED: { status: 401, type: "authentication_error", retry: false },
	PLATFORM_MODEL_NOT_ALLOWED: { status: 403, type: "permission_error", retry: false },
	PLATFORM_MODEL_NOT_FOUND: { status: 404, type: "invalid_request_error", retry: false },
	PLATFORM_NOT_FOUND: { status: 404, type: "invalid_request_error", retry: false },
	PLATFORM_CONFLICT: { status: 400, type: "invalid_request_error", retry: false },
	PLATFORM_PAYLOAD_TOO_LARGE: { status: 413, type: "invalid_request_error", retry: false },
	PLATFORM_REQUEST_TIMEOUT: { status: 408, type: "invalid_request_error", retry: true },
	PLATFORM_RATE_LIMITED: { status: 429, type: "rate_limit_error", retry: true },
	PLATFORM_CONCURRENCY_LIMITED: { status: 429, type: "rate_limit_error", retry: true },
	PLATFORM_QUOTA_EXCEEDED: { status: 429, type: "insufficient_quota", retry: false },
	PLATFORM_BUDGET_EXCEEDED: { status: 429, type: "insufficient_quota", retry: false },
	/** A key or tenant with a budget asked for a model that has no price. */
	PLATFORM_MODEL_UNPRICED: { status: 403, type: "permission_error", retry: false },
	PLATFORM_SHUTTING_DOWN: { status: 503, type: "api_error", retry: true },
	PLATFORM_INTERNAL_ERROR: { status: 500, type: "api_error", retry: true },
	UPSTREAM_NO_ACCOUNT: { status: 503, type: "api_error", retry: true },
	UPSTREAM_AUTH_FAILED: { status: 502, type: "api_error", retry: true },
	UPSTREAM_RATE_LIMITED: { status: 429, type: "rate_limit_error", retry: true },
	UPSTREAM_OVERLOADED: { status: 503, type: "api_error", retry: true },
	UPSTREAM_SERVER_ERROR: { status: 502, type: "api_error", retry: true },
	UPSTREAM_BAD_RESPONSE: { status: 502, type: "api_error", retry: true },
	UPSTREAM_CONNECTION_FAILED: { status: 502, type: "api_error", retry: true },
	UPSTREAM_TIMEOUT: { status: 504, type: "api_error", retry: true },
	UPSTREAM_STREAM_BROKEN: { status: 502, type: "api_error", retry: false },
	/** Log-only: the client went away before the answer was complete (never sent to anyone). */
	CLIENT_CLOSED_REQUEST: { status: 499, type: "invalid_request_error", retry: false },
	/** The upstream rejected the request as invalid; its message is passed on. */
	UPSTREAM_INVALID_REQUEST: { status: 400, type: "invalid_request_error", retry: false },
} as const satisfies Record<string, { status: number; type: string; retry: boolean }>;

export type ErrorCode = keyof typeof ERROR_CODES;
