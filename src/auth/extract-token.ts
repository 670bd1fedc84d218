import { GatewayError } from "../errors/gateway-error.ts";

/** The client key from `Authorization: Bearer …` or `x-api-key` (Anthropic SDKs send the latter). */
export function extractToken(headers: Headers): string {
	const auth = headers.get("authorization");
	if (auth) {
		const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
		if (m) return m[1].trim();
	}
	const key = headers.get("x-api-key");
	if (key) return key.trim();
	throw new GatewayError(
		"PLATFORM_AUTH_MISSING_API_KEY",
		"You didn't provide an API key. Send it as 'Authorization: Bearer <key>' or 'x-api-key'.",
	);
}
