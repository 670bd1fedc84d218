import { describe, expect, test } from "bun:test";
import { ERROR_CODES, type ErrorCode } from "../../src/errors/codes.ts";
import { errorBody, errorHeaders, errorResponse, toGatewayError } from "../../src/errors/error-response.ts";
import { GatewayError } from "../../src/errors/gateway-error.ts";
import { anthropicErrorResponse } from "../../src/protocols/anthropic/error-response.ts";

const RID = "req_test_123";
const ALL_CODES = Object.keys(ERROR_CODES) as ErrorCode[];

describe("errorResponse (OpenAI shape)", () => {
	test("body is exactly {error:{message,type,param,code,request_id}}", async () => {
		const res = errorResponse(
			new GatewayError("PLATFORM_INVALID_REQUEST", "Invalid value for 'messages'", { param: "messages" }),
			RID,
		);
		expect(res.status).toBe(400);
		expect(res.headers.get("content-type")).toBe("application/json");
		expect(res.headers.get("x-request-id")).toBe(RID);
		expect(await res.json()).toEqual({
			error: {
				message: "Invalid value for 'messages'",
				type: "invalid_request_error",
				param: "messages",
				code: "PLATFORM_INVALID_REQUEST",
				request_id: RID,
			},
		});
	});

	test("param defaults to null", () => {
		expect(errorBody(new GatewayError("PLATFORM_NOT_FOUND", "nope"), RID).error.param).toBeNull();
	});

	test("every code answers with its table status and type; x-should-retry: false exactly when not retryable", async () => {
		for (const code of ALL_CODES) {
			const spec = ERROR_CODES[code];
			const res = errorResponse(new GatewayError(code, `msg ${code}`), RID);
			expect(res.status).toBe(spec.status);
			const body = (await res.json()) as {
				error: { type: string; code: string; message: string };
			};
			expect(body.error.type).toBe(spec.type);
			expect(body.error.code).toBe(code);
			expect(body.error.message).toBe(`msg ${code}`);
			expect(res.headers.get("x-should-retry")).toBe(spec.retry ? null : "false");
		}
	});

	test("errors a retry cannot fix carry x-should-retry: false", () => {
		for (const code of [
			"PLATFORM_QUOTA_EXCEEDED",
			"PLATFORM_BUDGET_EXCEEDED",
			"PLATFORM_AUTH_KEY_REVOKED",
			"PLATFORM_INVALID_JSON",
			"UPSTREAM_INVALID_REQUEST",
		] as const) {
			expect(errorHeaders(new GatewayError(code, "x"), RID)["x-should-retry"]).toBe("false");
		}
		expect(errorHeaders(new GatewayError("PLATFORM_RATE_LIMITED", "x"), RID)["x-should-retry"]).toBeUndefined();
	});

	test("deterministic errors are never 5xx or 409 (the SDK would retry them)", () => {
		for (const code of ALL_CODES) {
			const spec: { status: number; retry: boolean } = ERROR_CODES[code];
			// UPSTREAM_STREAM_BROKEN is only ever sent in-band, after a 200
			if (!spec.retry && code !== "UPSTREAM_STREAM_BROKEN") {
				expect(spec.status < 500 && spec.status !== 409).toBe(true);
			}
		}
	});

	test("status override (upstream 4xx passed through) keeps the code's type", () => {
		const e = new GatewayError("UPSTREAM_INVALID_REQUEST", "context too long", {
			status: 422,
		});
		const res = errorResponse(e, RID);
		expect(res.status).toBe(422);
	});

	test("retry-after and retry-after-ms when a retry hint is set", async () => {
		const e = new GatewayError("PLATFORM_RATE_LIMITED", "slow down", {
			retryAfterSeconds: 1.5,
		});
		const res = errorResponse(e, RID);
		expect(res.headers.get("retry-after")).toBe("2");
		expect(res.headers.get("retry-after-ms")).toBe("1500");
		const body = (await res.json()) as { error: { retry_after?: number } };
		expect(body.error.retry_after).toBe(1.5);
		const none = errorResponse(new GatewayError("PLATFORM_RATE_LIMITED", "x"), RID);
		expect(none.headers.get("retry-after")).toBeNull();
		expect(none.headers.get("retry-after-ms")).toBeNull();
		const negative = errorHeaders(new GatewayError("PLATFORM_RATE_LIMITED", "x", { retryAfterSeconds: -3 }), RID);
		expect(negative["retry-after"]).toBe("0");
		expect(negative["retry-after-ms"]).toBe("0");
	});

	test("extra headers (rate-limit headers) are sent", () => {
		const e = new GatewayError("PLATFORM_RATE_LIMITED", "x", {
			headers: {
				"x-ratelimit-limit-requests": "60",
				"x-ratelimit-remaining-requests": "0",
			},
		});
		const res = errorResponse(e, RID);
		expect(res.headers.get("x-ratelimit-limit-requests")).toBe("60");
		expect(res.headers.get("x-ratelimit-remaining-requests")).toBe("0");
	});

	test("unknown errors become 500 PLATFORM_INTERNAL_ERROR without the original message or stack", async () => {
		const secret = "db password is hunter2 at /srv/app.ts:12";
		for (const thrown of [new Error(secret), new TypeError(secret), secret, { message: secret }, null, undefined]) {
			const res = errorResponse(thrown, RID);
			expect(res.status).toBe(500);
			const text = await res.text();
			expect(text).not.toContain("hunter2");
			expect(text).not.toContain("app.ts");
			expect(text).not.toContain("    at ");
			const body = JSON.parse(text) as { error: Record<string, unknown> };
			expect(body.error.code).toBe("PLATFORM_INTERNAL_ERROR");
			expect(body.error.type).toBe("api_error");
			expect(body.error.request_id).toBe(RID);
			expect(Object.keys(body.error).sort()).toEqual(["code", "message", "param", "request_id", "type"]);
		}
	});

	test("toGatewayError keeps GatewayErrors and wraps the rest with the cause", () => {
		const g = new GatewayError("PLATFORM_NOT_FOUND", "x");
		expect(toGatewayError(g)).toBe(g);
		const cause = new Error("boom");
		const wrapped = toGatewayError(cause);
		expect(wrapped).toBeInstanceOf(GatewayError);
		expect(wrapped.code).toBe("PLATFORM_INTERNAL_ERROR");
		expect(wrapped.cause).toBe(cause);
		expect(wrapped.message).not.toContain("boom");
	});
});

describe("anthropicErrorResponse", () => {
	test("Anthropic shape with the gateway code riding along", async () => {
		const res = anthropicErrorResponse(new GatewayError("PLATFORM_AUTH_INVALID_API_KEY", "Invalid API key"), RID);
		expect(res.status).toBe(401);
		expect(res.headers.get("x-request-id")).toBe(RID);
		expect(res.headers.get("x-should-retry")).toBe("false");
		expect(await res.json()).toEqual({
			type: "error",
			error: {
				type: "authentication_error",
				message: "Invalid API key",
				code: "PLATFORM_AUTH_INVALID_API_KEY",
			},
			request_id: RID,
		});
	});

	test("status → Anthropic error type", async () => {
		const cases: [ErrorCode, number, string][] = [
			["PLATFORM_INVALID_REQUEST", 400, "invalid_request_error"],
			["PLATFORM_MODEL_NOT_ALLOWED", 403, "permission_error"],
			["PLATFORM_MODEL_NOT_FOUND", 404, "not_found_error"],
			["PLATFORM_PAYLOAD_TOO_LARGE", 413, "request_too_large"],
			["PLATFORM_RATE_LIMITED", 429, "rate_limit_error"],
			["UPSTREAM_OVERLOADED", 503, "overloaded_error"],
			["UPSTREAM_SERVER_ERROR", 502, "api_error"],
			["PLATFORM_INTERNAL_ERROR", 500, "api_error"],
		];
		for (const [code, status, type] of cases) {
			const res = anthropicErrorResponse(new GatewayError(code, "m"), RID);
			expect(res.status).toBe(status);
			const body = (await res.json()) as { error: { type: string } };
			expect(body.error.type).toBe(type);
		}
	});

	test("retry hints and hidden internals as in the OpenAI mapper", async () => {
		const limited = anthropicErrorResponse(
			new GatewayError("UPSTREAM_RATE_LIMITED", "m", { retryAfterSeconds: 3 }),
			RID,
		);
		expect(limited.headers.get("retry-after")).toBe("3");
		expect(limited.headers.get("retry-after-ms")).toBe("3000");
		const internal = anthropicErrorResponse(new Error("secret stack detail"), RID);
		expect(internal.status).toBe(500);
		const text = await internal.text();
		expect(text).not.toContain("secret stack detail");
		expect(JSON.parse(text).type).toBe("error");
	});
});
