import { readFileSync } from "node:fs";
import type { AdminKeyView, NewSession, SessionView } from "../../admin/admin-login.ts";
import { loginMessageHost } from "../../admin/login-message.ts";
import { AdminClient } from "../admin-client.ts";
import { CliError, EXIT, usageError } from "../cli-error.ts";
import type { Ctx } from "../context.ts";
import { generateIdentity, loadIdentity, signMessage } from "../identity.ts";
import { table } from "../render.ts";
import { readSession, removeSession, writeSession } from "../session-file.ts";

interface List<T> {
	data: T[];
}

export function keygen(ctx: Ctx): void {
	const id = generateIdentity(ctx.keyPath, ctx.flags.force === true);
	ctx.print({ path: ctx.keyPath, fingerprint: id.fingerprint, public_key: id.publicLine }, () =>
		[
			`wrote ${ctx.keyPath} (private, 0600) and ${ctx.keyPath}.pub`,
			`fingerprint: ${id.fingerprint}`,
			`enrol it once with the admin token: ix admin-keys add --url <url> --token <admin token>`,
			`or set GATEWAY_ADMIN_PUBLIC_KEYS="${id.publicLine}" on the gateway`,
		].join("\n"),
	);
}

/** Challenge-response: the server's `message` is signed exactly as given, after checking its host line. */
export async function login(ctx: Ctx): Promise<void> {
	const url = (ctx.args[0] ?? ctx.flags.url ?? ctx.env.IX_URL)?.replace(/\/+$/, "");
	if (!url) throw usageError("missing <url>: ix login https://gateway.example.com");
	const id = loadIdentity(ctx.keyPath);
	const client = new AdminClient(url, null);
	const challenge = await client.call<{ challenge_id: string; message: string }>("POST", "/admin/auth/challenge", {
		public_key: id.publicLine,
	});
	const host = loginMessageHost(challenge.message);
	if (host !== new URL(url).host) {
		throw new CliError(
			EXIT.refused,
			`refused to sign: the challenge names host '${host}', not ${new URL(url).host} (a proxy rewriting Host, or a relayed challenge)`,
		);
	}
	const session = await client.call<NewSession>("POST", "/admin/auth/session", {
		challenge_id: challenge.challenge_id,
		signature: signMessage(id, challenge.message),
	});
	writeSession(ctx.sessionFile, {
		url,
		token: session.token,
		session_id: session.session_id,
		expires_at: session.expires_at,
		fingerprint: id.fingerprint,
	});
	ctx.print({ url, session_id: session.session_id, expires_at: session.expires_at, fingerprint: id.fingerprint }, () =>
		[`logged in to ${url} as ${id.fingerprint}`, `session ${session.session_id}, expires ${session.expires_at}`].join(
			"\n",
		),
	);
}

/** Ends the session on the server (best effort) and forgets it here. */
export async function logout(ctx: Ctx): Promise<void> {
	const saved = readSession(ctx.sessionFile);
	if (!saved) throw new CliError(EXIT.notLoggedIn, "not logged in: nothing to log out of");
	const ended = await new AdminClient(saved.url, saved.token)
		.call("POST", "/admin/auth/logout")
		.then(() => true)
		.catch(() => false);
	removeSession(ctx.sessionFile);
	ctx.print({ logged_out: true, revoked_on_server: ended }, () =>
		ended ? `logged out of ${saved.url}` : `forgot the session for ${saved.url} (the server had already ended it)`,
	);
}

export async function sessions(ctx: Ctx): Promise<void> {
	const client = ctx.client();
	if (ctx.args[0] === "revoke") {
		const s = await client.call<SessionView>(
			"DELETE",
			`/admin/sessions/${encodeURIComponent(ctx.arg(1, "session id"))}`,
		);
		ctx.print(s, () => `revoked session ${s.id}`);
		return;
	}
	if (ctx.args[0] !== undefined && ctx.args[0] !== "list")
		throw usageError(`unknown sessions command '${ctx.args[0]}'`);
	const current = readSession(ctx.sessionFile)?.session_id;
	const list = await client.get<List<SessionView>>("/admin/sessions", {
		include_inactive: ctx.flags.all ? "true" : undefined,
	});
	ctx.print(list, () =>
		table(list.data, [
			["id", (s) => (s.id === current ? `${s.id} *` : s.id)],
			["fingerprint", (s) => s.fingerprint],
			["client_ip", (s) => s.client_ip],
			["created", (s) => s.created_at],
			["expires", (s) => s.expires_at],
			["revoked", (s) => s.revoked_at],
		]),
	);
}

export async function adminKeys(ctx: Ctx): Promise<void> {
	const client = ctx.client();
	const sub = ctx.args[0] ?? "list";
	if (sub === "list") {
		const list = await client.get<List<AdminKeyView>>("/admin/admin-keys", {
			include_revoked: ctx.flags.all ? "true" : undefined,
		});
		ctx.print(list, () =>
			table(list.data, [
				["id", (k) => k.id],
				["name", (k) => k.name],
				["fingerprint", (k) => k.fingerprint],
				["created", (k) => k.created_at],
				["revoked", (k) => k.revoked_at],
			]),
		);
	} else if (sub === "add") {
		// the given .pub file, else the public half of this CLI's own key
		const line = ctx.args[1] ? readFileSync(ctx.args[1], "utf8").trim() : loadIdentity(ctx.keyPath).publicLine;
		const k = await client.call<AdminKeyView>("POST", "/admin/admin-keys", { public_key: line, name: ctx.flags.name });
		ctx.print(k, () => `enrolled ${k.fingerprint} as ${k.id} (${k.name})`);
	} else if (sub === "revoke") {
		const k = await client.call<AdminKeyView>(
			"DELETE",
			`/admin/admin-keys/${encodeURIComponent(ctx.arg(1, "admin key id"))}`,
		);
		ctx.print(k, () => `revoked admin key ${k.id} (${k.fingerprint}) and its sessions`);
	} else throw usageError(`unknown admin-keys command '${sub}'`);
}

/** A one-time console login link, tied to the current session. */
export async function consoleLink(ctx: Ctx): Promise<void> {
	const link = await ctx.client().call<{ url: string; expires_at: string }>("POST", "/admin/auth/console-link");
	ctx.print(link, () => `${link.url}\n(one use, expires ${link.expires_at})`);
}
