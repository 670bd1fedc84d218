import type { AdminActor } from "./admin-login.ts";

/** An admin call as the audit trail records it. */
export interface AdminCaller {
	/** `token`, or `session:<id>`. */
	actor: string;
	/** The session's public-key fingerprint; null for the admin token. */
	fingerprint: string | null;
	requestId: string | null;
	clientAddress: string | null;
}

export interface AdminCallContext {
	request: Request;
	server?: { requestIP(request: Request): { address: string } | null } | null;
	/** The call's x-request-id (see app.ts). */
	requestId: string | null;
}

// Keyed by the Request object: the guard sees the call first, handlers (in plugins that
// do not know the guard's types) read it back through their own `request`.
const callers = new WeakMap<Request, AdminCaller>();

/**
 * Binds the authenticated actor to the call, with its request id and client address (the
 * socket's; the first x-forwarded-for address only when `trustProxy` says a proxy sets it).
 * The admin guard calls it once the caller is known.
 */
export function bindAdminCaller(ctx: AdminCallContext, actor: AdminActor, trustProxy: boolean): void {
	const forwarded = trustProxy ? ctx.request.headers.get("x-forwarded-for")?.split(",")[0]?.trim() : undefined;
	callers.set(ctx.request, {
		actor: actor.kind === "session" ? `session:${actor.id}` : "token",
		fingerprint: actor.fingerprint,
		requestId: ctx.requestId,
		clientAddress: forwarded || (ctx.server?.requestIP(ctx.request)?.address ?? null),
	});
}

/** The caller bound by the guard; an unbound request (not through the guard) has none. */
export const adminCallerOf = (request: Request): AdminCaller | undefined => callers.get(request);
