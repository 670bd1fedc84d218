import { timingSafeEqualStr } from "../auth/api-key-format.ts";
import { GatewayError } from "../errors/gateway-error.ts";
import { type AdminActor, type AdminLoginService, SESSION_TOKEN_PREFIX, TOKEN_ACTOR } from "./admin-login.ts";

export interface AdminGuardOptions {
	adminToken: string | undefined;
	/** false: the admin token is refused, only sessions open /admin/* (production with keys). */
	tokenEnabled: boolean;
	sessions: AdminLoginService;
}

/**
 * Who may use /admin/*: the admin token (`Authorization: Bearer …` or `X-Admin-Token`, compared in
 * constant time whatever the lengths) or an admin session token (`ixs_…`). Reads headers only, so
 * it runs before any body is read. Client keys never open admin routes. Returns the actor, and
 * keeps it for `actorOf` (route groups mounted as plugins read it there).
 */
export function adminGuard(opts: AdminGuardOptions): (request: Request) => Promise<AdminActor> {
	const check = headerCheck(opts);
	return async (request) => {
		const actor = await check(request.headers);
		actors.set(request, actor);
		return actor;
	};
}

const actors = new WeakMap<Request, AdminActor>();

/** The actor the admin guard let through for this request. */
export function actorOf(request: Request): AdminActor {
	const actor = actors.get(request);
	if (!actor) throw new Error("actorOf called on a request the admin guard did not check");
	return actor;
}

function headerCheck(opts: AdminGuardOptions): (headers: Headers) => Promise<AdminActor> {
	const token = opts.tokenEnabled ? opts.adminToken : undefined;
	return async (headers) => {
		const auth = headers.get("authorization");
		const bearer = auth && /^Bearer\s+(.+)$/i.exec(auth.trim())?.[1];
		const presented = (headers.get("x-admin-token") ?? bearer)?.trim();
		if (presented && token && timingSafeEqualStr(presented, token)) return TOKEN_ACTOR;
		if (presented?.startsWith(SESSION_TOKEN_PREFIX)) return opts.sessions.authenticate(presented);
		if (!opts.adminToken) {
			throw new GatewayError(
				"PLATFORM_ADMIN_UNAUTHORIZED",
				"The admin token is disabled (GATEWAY_ADMIN_TOKEN is not set): log in with an enrolled Ed25519 key (`ix login <url>`) for an admin session, or set GATEWAY_ADMIN_TOKEN",
			);
		}
		if (!opts.tokenEnabled) {
			throw new GatewayError(
				"PLATFORM_ADMIN_UNAUTHORIZED",
				"The admin token is switched off here ([admin] token_enabled = false): log in with an Ed25519 key (`ix login <url>`)",
			);
		}
		throw new GatewayError("PLATFORM_ADMIN_UNAUTHORIZED", "A valid admin token or admin session is required");
	};
}
