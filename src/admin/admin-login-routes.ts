import { Elysia, t } from "elysia";
import type { AdminAuditLog } from "./admin-audit.ts";
import { actorOf } from "./admin-auth.ts";
import { adminBody } from "./admin-body.ts";
import type { AdminLoginService } from "./admin-login.ts";

export const ChallengeBody = t.Object(
	{
		fingerprint: t.Optional(t.String({ minLength: 1, maxLength: 200 })),
		public_key: t.Optional(t.String({ minLength: 1, maxLength: 2000 })),
	},
	{ additionalProperties: false },
);
export const SessionBody = t.Object(
	{
		challenge_id: t.String({ minLength: 1, maxLength: 200 }),
		signature: t.String({ minLength: 1, maxLength: 200, description: "the base64 Ed25519 signature of 'message'" }),
	},
	{ additionalProperties: false },
);
export const ConsoleSessionBody = t.Object(
	{ code: t.String({ minLength: 1, maxLength: 200 }) },
	{ additionalProperties: false },
);
export const AdminKeyBody = t.Object(
	{
		public_key: t.String({ minLength: 1, maxLength: 2000, description: "'ssh-ed25519 AAAA… comment' or raw base64" }),
		name: t.Optional(t.String({ minLength: 1, maxLength: 200 })),
	},
	{ additionalProperties: false },
);

type Server = { requestIP(r: Request): { address: string } | null } | null;
/** The peer's address as the socket shows it: a forwarded-for header would let anyone pick their rate-limit bucket. */
const clientIp = (server: Server, request: Request) => server?.requestIP(request)?.address ?? "unknown";

/** /admin/auth/challenge, /session, /console-session: how a caller with no credential yet gets a session. */
export function loginRoutes(service: AdminLoginService) {
	const challengeBody = adminBody(ChallengeBody);
	const sessionBody = adminBody(SessionBody);
	const consoleBody = adminBody(ConsoleSessionBody);
	return new Elysia({ name: "admin-login", prefix: "/admin/auth" })
		.post("/challenge", async ({ request, server }) => {
			const host = request.headers.get("host") ?? new URL(request.url).host;
			return service.challenge(await challengeBody(request), host, clientIp(server, request));
		})
		.post("/session", async ({ request, server, set }) => {
			const body = await sessionBody(request);
			set.status = 201;
			return service.session(body, clientIp(server, request));
		})
		.post("/console-session", async ({ request, server, set }) => {
			const { code } = await consoleBody(request);
			set.status = 201;
			return service.redeemConsoleCode(code, clientIp(server, request));
		});
}

/** Sessions and admin keys, behind the admin guard; their changes go to the audit trail. */
export function sessionRoutes(service: AdminLoginService, audit: AdminAuditLog) {
	const keyBody = adminBody(AdminKeyBody);
	return new Elysia()
		.get("/sessions", async ({ query }) => ({
			object: "list",
			data: await service.listSessions(query.include_inactive === "true"),
		}))
		.delete("/sessions/:id", ({ params, request }) =>
			audit.audited(request, { action: "session.revoke", type: "session", id: params.id }, () =>
				service.revokeSession(params.id),
			),
		)
		.post("/auth/logout", async ({ request }) => {
			const actor = actorOf(request);
			if (actor.kind !== "session") return { revoked: false, session_id: null };
			await audit.audited(request, { action: "session.logout", type: "session", id: actor.id }, () =>
				service.revokeSession(actor.id),
			);
			return { revoked: true, session_id: actor.id };
		})
		.post("/auth/console-link", async ({ request }) => {
			const { code, expires_at } = await service.consoleCode(actorOf(request));
			return { url: `${new URL(request.url).origin}/console#code=${code}`, expires_at };
		})
		.get("/admin-keys", async ({ query }) => ({
			object: "list",
			data: await service.listKeys(query.include_revoked === "true"),
		}))
		.post("/admin-keys", async ({ request, set }) => {
			const body = await keyBody(request);
			const added = await audit.audited(request, { action: "admin_key.add", type: "admin_key", id: (k) => k.id }, () =>
				service.addKey(body),
			);
			set.status = 201;
			return added;
		})
		.delete("/admin-keys/:id", ({ params, request }) =>
			audit.audited(request, { action: "admin_key.revoke", type: "admin_key", id: params.id }, () =>
				service.revokeKey(params.id),
			),
		);
}
