import { ERROR_CODES, type ErrorCode } from "./codes.ts";

export interface GatewayErrorOptions {
	param?: string | null;
	/** Overrides the code's default status (e.g. an upstream 4xx passed through). */
	status?: number;
	/** Seconds until a retry may succeed; sent as retry-after. */
	retryAfterSeconds?: number;
	/** Extra response headers (rate-limit headers and the like). */
	headers?: Record<string, string>;
	cause?: unknown;
}

/** The one error type the gateway raises; mapped to a response once, in error-response.ts. */
export class GatewayError extends Error {
	readonly code: ErrorCode;
	readonly status: number;
	readonly type: string;
	readonly param: string | null;
	/** Whether a client retry can help: false sends `x-should-retry: false`. */
	readonly retryable: boolean;
	readonly retryAfterSeconds: number | undefined;
	readonly headers: Record<string, string> | undefined;
	/** Upstream attempts made before this error, set by the failover loop. */
	attempts = 0;

	constructor(code: ErrorCode, message: string, options: GatewayErrorOptions = {}) {
		super(message, options.cause === undefined ? undefined : { cause: options.cause });
		const spec = ERROR_CODES[code];
		this.name = "GatewayError";
		this.code = code;
		this.status = options.status ?? spec.status;
		this.type = spec.type;
		this.param = options.param ?? null;
		this.retryable = spec.retry;
		this.retryAfterSeconds = options.retryAfterSeconds;
		this.headers = options.headers;
	}
}
