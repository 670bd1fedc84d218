import { timingSafeEqual } from "node:crypto";
import { sha256Hex } from "../auth/sha256.ts";
import { GatewayError } from "../errors/gateway-error.ts";

/**
 * Checks the admin token (`Authorization: Bearer …` or `X-Admin-Token`). Both sides are
 * hashed first so the comparison is constant-time whatever the lengths. Client keys never
 * open admin routes: only the one configured admin token does.
 */
export function adminGuard(adminToken: string | undefined): (headers: Headers) => void {
	const expected = adminToken ? Buffer.from(sha256Hex(adminToken), "hex") : null;
	return (headers) => {
		if (!expected) {
			throw new GatewayError(
				"PLATFORM_ADMIN_UNAUTHORIZED",
				"The admin API is disabled: set GATEWAY_ADMIN_TOKEN to enable it",
			);
		}
		const auth = headers.get("authorization");
		const bearer = auth && /^Bearer\s+(.+)$/i.exec(auth.trim())?.[1];
		const presented = headers.get("x-admin-token") ?? bearer;
		if (!presented || !timingSafeEqual(Buffer.from(sha256Hex(presented.trim()), "hex"), expected)) {
			throw new GatewayError("PLATFORM_ADMIN_UNAUTHORIZED", "A valid admin token is required");
		}
	};
}
