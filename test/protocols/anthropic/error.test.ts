import { describe, expect, test } from "bun:test";
import { GatewayError } from "../../../src/errors/gateway-error.ts";
import { anthropicErrorBody, anthropicErrorType } from "../../../src/protocols/anthropic/error.ts";

describe("anthropic errors", () => {
	test("status → Anthropic error type", () => {
		const table: [number, string][] = [
			[400, "invalid_request_error"],
			[401, "authentication_error"],
			[403, "permission_error"],
			[404, "not_found_error"],
			[413, "request_too_large"],
			[429, "rate_limit_error"],
			[500, "api_error"],
			[502, "api_error"],
			[503, "overloaded_error"],
			[504, "timeout_error"],
			[529, "overloaded_error"],
			[405, "invalid_request_error"],
		];
		for (const [status, type] of table) expect([status, anthropicErrorType(status)]).toEqual([status, type]);
	});

	test("a GatewayError renders as an Anthropic body", () => {
		const err = new GatewayError("PLATFORM_RATE_LIMITED", "Slow down");
		expect(anthropicErrorBody(err)).toEqual({
			type: "error",
			error: { type: "rate_limit_error", message: "Slow down" },
		});
	});
});
