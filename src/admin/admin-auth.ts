import { timingSafeEqualStr } from "../auth/api-key-format.ts";
import { GatewayError } from "../errors/gateway-error.ts";
import { type AdminActor, TOKEN_ACTOR } from "./admin-caller.ts";

/**
 * Checks the admin token (`Authorization: Bearer …` or `X-Admin-Token`), compared in
 * constant time whatever the lengths. Client keys never open admin routes: only the one
 * configured admin token does. Answers who the caller is, for the audit trail.
 */
export function adminGuard(adminToken: string | undefined): (headers: Headers) => AdminActor {
	return (headers) => {
		if (!adminToken) {
			throw new GatewayError(
				"PLATFORM_ADMIN_UNAUTHORIZED",
				"The admin API is disabled: set GATEWAY_ADMIN_TOKEN to enable it",
			);
		}
		const auth = headers.get("authorization");
		const bearer = auth && /^Bearer\s+(.+)$/i.exec(auth.trim())?.[1];
		const presented = headers.get("x-admin-token") ?? bearer;
		if (!presented || !timingSafeEqualStr(presented.trim(), adminToken)) {
			throw new GatewayError("PLATFORM_ADMIN_UNAUTHORIZED", "A valid admin token is required");
		}
		return TOKEN_ACTOR;
	};
}
