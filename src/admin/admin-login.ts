import { randomBytes } from "node:crypto";
import type { Sql } from "postgres";
import { sha256Hex } from "../auth/sha256.ts";
import type { ChangeBus } from "../control/change-bus.ts";
import { fingerprintOf, PublicKeyFormatError, parsePublicKey, verifySignature } from "../crypto/ed25519.ts";
import { GatewayError } from "../errors/gateway-error.ts";
import { randomId } from "./keys.ts";
import { loginMessage } from "./login-message.ts";

/** Who is acting on /admin/*: the admin token, or a session (and the key it was opened with). */
export interface AdminActor {
	kind: "token" | "session";
	/** `admin-token`, or the session id. */
	id: string;
	/** The session's Ed25519 key fingerprint; null for the admin token (and console links it made). */
	fingerprint: string | null;
}

export const TOKEN_ACTOR: AdminActor = { kind: "token", id: "admin-token", fingerprint: null };

export interface AdminLoginSettings {
	session_ttl_ms: number;
	challenge_ttl_ms: number;
	login_attempts_per_minute: number;
}

export const SESSION_TOKEN_PREFIX = "ixs_";
/** A console link has to survive a click into a browser, so it lives longer than a challenge. */
const CONSOLE_CODE_TTL_MS = 5 * 60_000;
/**
 * How long a verified session is trusted without asking Postgres again. Revocations also reach
 * every worker and instance through the change bus at once; this bound covers a lost notification.
 */
const SESSION_CACHE_MS = 500;
const MAX_CACHED_SESSIONS = 1_000;

export interface AdminKeyView {
	id: string;
	object: "admin_key";
	name: string;
	public_key: string;
	fingerprint: string;
	created_at: string;
	revoked_at: string | null;
}

export interface SessionView {
	id: string;
	object: "admin_session";
	admin_key_id: string | null;
	fingerprint: string | null;
	client_ip: string;
	created_at: string;
	expires_at: string;
	revoked_at: string | null;
}

export interface NewSession {
	token: string;
	session_id: string;
	expires_at: string;
}

interface SessionRow {
	id: string;
	fingerprint: string | null;
	expired: boolean;
	revoked: boolean;
	key_revoked: boolean;
}

/** Times travel as epoch ms: timestamptz parsing differs between postgres.js setups (as in keys.ts). */
const iso = (ms: number | null): string | null => (ms === null ? null : new Date(Math.round(ms)).toISOString());
const epochMs = (column: string) => `(extract(epoch from ${column}) * 1000)::float8`;
const KEY_COLUMNS = `id, name, public_key, fingerprint, ${epochMs("created_at")} as created_ms, ${epochMs("revoked_at")} as revoked_ms`;
const SESSION_COLUMNS = `id, admin_key_id, fingerprint, client_ip, ${epochMs("created_at")} as created_ms,
	${epochMs("expires_at")} as expires_ms, ${epochMs("revoked_at")} as revoked_ms`;
const secret = (prefix: string) => `${prefix}${randomBytes(32).toString("base64url")}`;

/**
 * Ed25519 challenge-response login and admin sessions. Everything lives in Postgres (challenges
 * included), so a challenge made on one worker or instance is redeemed on any other.
 */
export class AdminLoginService {
	private readonly cache = new Map<string, { actor: AdminActor; until: number }>();

	constructor(
		private readonly sql: Sql,
		private readonly bus: ChangeBus | null,
		private readonly settings: AdminLoginSettings,
	) {}

	/** Enrols keys (OpenSSH lines or raw base64) that are not known yet; revoked keys stay revoked. */
	async enrol(lines: readonly string[]): Promise<number> {
		let added = 0;
		for (const [i, line] of lines.entries()) {
			const key = parsePublicKey(line);
			const r = await this.sql`
				insert into admin_keys (id, name, public_key, fingerprint)
				values (${randomId("adk")}, ${key.comment ?? `env-${i + 1}`}, ${Buffer.from(key.raw).toString("base64")},
					${fingerprintOf(key.raw)})
				on conflict do nothing returning id`;
			added += r.length;
		}
		return added;
	}

	async addKey(input: { public_key: string; name?: string }): Promise<AdminKeyView> {
		const key = this.parseKey(input.public_key, "public_key");
		const fingerprint = fingerprintOf(key.raw);
		const r = await this.sql<{ id: string }[]>`
			insert into admin_keys (id, name, public_key, fingerprint)
			values (${randomId("adk")}, ${input.name ?? key.comment ?? fingerprint}, ${Buffer.from(key.raw).toString("base64")},
				${fingerprint})
			on conflict do nothing returning id`;
		if (!r[0]) {
			throw new GatewayError("PLATFORM_CONFLICT", `The admin key ${fingerprint} is already enrolled`, {
				param: "public_key",
			});
		}
		return this.getKey(r[0].id);
	}

	async listKeys(includeRevoked: boolean): Promise<AdminKeyView[]> {
		const rows = await this.sql<KeyRow[]>`
			select ${this.sql.unsafe(KEY_COLUMNS)} from admin_keys where ${includeRevoked ? this.sql`true` : this.sql`revoked_at is null`}
			order by created_at, id`;
		return rows.map(keyView);
	}

	/** Revokes the key and every session opened with it. */
	async revokeKey(id: string): Promise<AdminKeyView> {
		const r = await this
			.sql`update admin_keys set revoked_at = coalesce(revoked_at, now()) where id = ${id} returning id`;
		if (r.length === 0) throw new GatewayError("PLATFORM_NOT_FOUND", `No admin key with id '${id}'`, { param: "id" });
		await this.sql`update admin_sessions set revoked_at = now() where admin_key_id = ${id} and revoked_at is null`;
		await this.sessionsChanged();
		return this.getKey(id);
	}

	async challenge(
		input: { fingerprint?: string; public_key?: string },
		host: string,
		clientIp: string,
	): Promise<{ challenge_id: string; nonce: string; expires_at: string; message: string }> {
		const fingerprint = input.public_key
			? fingerprintOf(this.parseKey(input.public_key, "public_key").raw)
			: input.fingerprint;
		if (!fingerprint) {
			throw new GatewayError("PLATFORM_INVALID_REQUEST", "Give 'fingerprint' or 'public_key'", {
				param: "fingerprint",
			});
		}
		const [key] = await this.sql<{ id: string; revoked: boolean }[]>`
			select id, revoked_at is not null as revoked from admin_keys where fingerprint = ${fingerprint}`;
		if (!key) {
			throw new GatewayError(
				"PLATFORM_ADMIN_KEY_UNKNOWN",
				`No admin key ${fingerprint} is enrolled: enrol its public key with the admin token (POST /admin/admin-keys) or GATEWAY_ADMIN_PUBLIC_KEYS`,
			);
		}
		if (key.revoked) throw keyRevoked(fingerprint);
		await this.checkAttempts(clientIp, fingerprint);
		const nonce = randomBytes(24).toString("base64url");
		const expiresAt = new Date(Date.now() + this.settings.challenge_ttl_ms);
		const message = loginMessage({ nonce, fingerprint, host, expiresAt });
		const id = randomId("chl");
		await this.sql`
			insert into admin_challenges (id, admin_key_id, fingerprint, message, client_ip, expires_at)
			values (${id}, ${key.id}, ${fingerprint}, ${message}, ${clientIp}, ${expiresAt.toISOString()}::timestamptz)`;
		// old challenges only matter for the rate limit's last minute
		await this.sql`delete from admin_challenges where created_at < now() - interval '1 day'`;
		return { challenge_id: id, nonce, expires_at: expiresAt.toISOString(), message };
	}

	/** Redeems a challenge: the first attempt uses it up, whatever its outcome. */
	async session(input: { challenge_id: string; signature: string }, clientIp: string): Promise<NewSession> {
		const [c] = await this.sql<
			{ admin_key_id: string; fingerprint: string; message: string; used: boolean; expired: boolean }[]
		>`
			select admin_key_id, fingerprint, message, used_at is not null as used, expires_at <= now() as expired
			from admin_challenges where id = ${input.challenge_id}`;
		if (!c) {
			throw new GatewayError("PLATFORM_NOT_FOUND", `No login challenge '${input.challenge_id}'`, {
				param: "challenge_id",
			});
		}
		if (c.used) throw replayed("This challenge was already used: ask for a new one (POST /admin/auth/challenge)");
		if (c.expired) throw challengeExpired("This challenge has expired: ask for a new one (POST /admin/auth/challenge)");
		const won = await this.sql`
			update admin_challenges set used_at = now() where id = ${input.challenge_id} and used_at is null returning id`;
		if (won.length === 0) throw replayed("This challenge was already used: ask for a new one");
		const [key] = await this.sql<{ public_key: string; revoked: boolean }[]>`
			select public_key, revoked_at is not null as revoked from admin_keys where id = ${c.admin_key_id}`;
		if (!key || key.revoked) throw keyRevoked(c.fingerprint);
		const signature = Buffer.from(input.signature, "base64");
		if (!verifySignature(Buffer.from(key.public_key, "base64"), c.message, signature)) {
			throw new GatewayError(
				"PLATFORM_ADMIN_BAD_SIGNATURE",
				`The signature does not verify with the admin key ${c.fingerprint}: sign the challenge's 'message' exactly, with that key`,
				{ param: "signature" },
			);
		}
		return this.open(c.admin_key_id, c.fingerprint, clientIp);
	}

	/** A one-time code for the console, tied to the caller's identity. */
	async consoleCode(actor: AdminActor): Promise<{ code: string; expires_at: string }> {
		const code = secret("ixc_");
		const expiresAt = new Date(Date.now() + CONSOLE_CODE_TTL_MS);
		const session = actor.kind === "session" ? actor.id : null;
		await this.sql`
			insert into admin_login_codes (code_hash, session_id, admin_key_id, fingerprint, expires_at)
			values (${sha256Hex(code)}, ${session},
				(select admin_key_id from admin_sessions where id = ${session}), ${actor.fingerprint}, ${expiresAt.toISOString()}::timestamptz)`;
		return { code, expires_at: expiresAt.toISOString() };
	}

	async redeemConsoleCode(code: string, clientIp: string): Promise<NewSession> {
		const [c] = await this.sql<
			{ admin_key_id: string | null; fingerprint: string | null; used: boolean; expired: boolean }[]
		>`
			update admin_login_codes set used_at = coalesce(used_at, now()) where code_hash = ${sha256Hex(code)}
			returning admin_key_id, fingerprint, used_at < now() as used, expires_at <= now() as expired`;
		if (!c || c.expired) throw challengeExpired("This console link is unknown or has expired: run `ix console` again");
		if (c.used) throw replayed("This console link was already used: run `ix console` again");
		if (c.admin_key_id) {
			const [key] = await this.sql`select 1 from admin_keys where id = ${c.admin_key_id} and revoked_at is null`;
			if (!key) throw keyRevoked(c.fingerprint ?? c.admin_key_id);
		}
		return this.open(c.admin_key_id, c.fingerprint, clientIp);
	}

	/** The actor behind a session token; throws a clear refusal for a revoked or expired one. */
	async authenticate(token: string): Promise<AdminActor> {
		const hash = sha256Hex(token);
		const hit = this.cache.get(hash);
		if (hit && hit.until > Date.now()) return hit.actor;
		const [s] = await this.sql<SessionRow[]>`
			select s.id, s.fingerprint, s.expires_at <= now() as expired, s.revoked_at is not null as revoked,
				coalesce(k.revoked_at is not null, false) as key_revoked
			from admin_sessions s left join admin_keys k on k.id = s.admin_key_id
			where s.token_hash = ${hash}`;
		if (!s) throw new GatewayError("PLATFORM_ADMIN_UNAUTHORIZED", "Unknown admin session token: log in again");
		if (s.key_revoked) throw keyRevoked(s.fingerprint ?? "of this session");
		if (s.revoked)
			throw new GatewayError("PLATFORM_ADMIN_SESSION_REVOKED", "This admin session was revoked: log in again");
		if (s.expired)
			throw new GatewayError("PLATFORM_ADMIN_SESSION_EXPIRED", "This admin session has expired: log in again");
		const actor: AdminActor = { kind: "session", id: s.id, fingerprint: s.fingerprint };
		if (this.cache.size >= MAX_CACHED_SESSIONS) this.cache.clear();
		this.cache.set(hash, { actor, until: Date.now() + SESSION_CACHE_MS });
		return actor;
	}

	async listSessions(includeInactive: boolean): Promise<SessionView[]> {
		const active = this.sql`revoked_at is null and expires_at > now()`;
		const rows = await this.sql<SessionDbRow[]>`
			select ${this.sql.unsafe(SESSION_COLUMNS)} from admin_sessions
			where ${includeInactive ? this.sql`true` : active} order by created_at desc, id`;
		return rows.map(sessionView);
	}

	async revokeSession(id: string): Promise<SessionView> {
		const [row] = await this.sql<SessionDbRow[]>`
			update admin_sessions set revoked_at = coalesce(revoked_at, now()) where id = ${id}
			returning ${this.sql.unsafe(SESSION_COLUMNS)}`;
		if (!row) throw new GatewayError("PLATFORM_NOT_FOUND", `No admin session with id '${id}'`, { param: "id" });
		await this.sessionsChanged();
		return sessionView(row);
	}

	/** Drops cached sessions: a revocation elsewhere (change bus). */
	dropCache(): void {
		this.cache.clear();
	}

	private async sessionsChanged(): Promise<void> {
		if (this.bus) await this.bus.publish({ kind: "admin-sessions" });
		else this.dropCache();
	}

	private async open(adminKeyId: string | null, fingerprint: string | null, clientIp: string): Promise<NewSession> {
		const token = secret(SESSION_TOKEN_PREFIX);
		const id = randomId("ses");
		const expiresAt = new Date(Date.now() + this.settings.session_ttl_ms);
		await this.sql`
			insert into admin_sessions (id, token_hash, admin_key_id, fingerprint, client_ip, expires_at)
			values (${id}, ${sha256Hex(token)}, ${adminKeyId}, ${fingerprint}, ${clientIp}, ${expiresAt.toISOString()}::timestamptz)`;
		return { token, session_id: id, expires_at: expiresAt.toISOString() };
	}

	/** Challenges in the last minute, per client IP and per key: every login attempt needs one. */
	private async checkAttempts(clientIp: string, fingerprint: string): Promise<void> {
		const [n] = await this.sql<{ by_ip: number; by_key: number; oldest_ms: number | null }[]>`
			select count(*) filter (where client_ip = ${clientIp})::int as by_ip,
				count(*) filter (where fingerprint = ${fingerprint})::int as by_key,
				(extract(epoch from min(created_at)) * 1000)::float8 as oldest_ms
			from admin_challenges
			where created_at > now() - interval '1 minute' and (client_ip = ${clientIp} or fingerprint = ${fingerprint})`;
		const limit = this.settings.login_attempts_per_minute;
		if (n && (n.by_ip >= limit || n.by_key >= limit)) {
			const retryMs = n.oldest_ms === null ? 60_000 : Math.max(1_000, n.oldest_ms + 60_000 - Date.now());
			throw new GatewayError(
				"PLATFORM_RATE_LIMITED",
				`Too many login attempts (${limit} a minute per client and per key): try again in ${Math.ceil(retryMs / 1000)} s`,
				{ retryAfterSeconds: Math.ceil(retryMs / 1000) },
			);
		}
	}

	private parseKey(text: string, param: string) {
		try {
			return parsePublicKey(text);
		} catch (e) {
			if (e instanceof PublicKeyFormatError) {
				throw new GatewayError("PLATFORM_INVALID_REQUEST", `${param}: ${e.message}`, { param });
			}
			throw e;
		}
	}

	private async getKey(id: string): Promise<AdminKeyView> {
		const [row] = await this.sql<KeyRow[]>`select ${this.sql.unsafe(KEY_COLUMNS)} from admin_keys where id = ${id}`;
		if (!row) throw new GatewayError("PLATFORM_NOT_FOUND", `No admin key with id '${id}'`, { param: "id" });
		return keyView(row);
	}
}

interface KeyRow {
	id: string;
	name: string;
	public_key: string;
	fingerprint: string;
	created_ms: number;
	revoked_ms: number | null;
}

interface SessionDbRow {
	id: string;
	admin_key_id: string | null;
	fingerprint: string | null;
	client_ip: string;
	created_ms: number;
	expires_ms: number;
	revoked_ms: number | null;
}

const keyView = (r: KeyRow): AdminKeyView => ({
	id: r.id,
	object: "admin_key",
	name: r.name,
	public_key: r.public_key,
	fingerprint: r.fingerprint,
	created_at: iso(r.created_ms) as string,
	revoked_at: iso(r.revoked_ms),
});

const sessionView = (r: SessionDbRow): SessionView => ({
	id: r.id,
	object: "admin_session",
	admin_key_id: r.admin_key_id,
	fingerprint: r.fingerprint,
	client_ip: r.client_ip,
	created_at: iso(r.created_ms) as string,
	expires_at: iso(r.expires_ms) as string,
	revoked_at: iso(r.revoked_ms),
});

const keyRevoked = (fingerprint: string) =>
	new GatewayError("PLATFORM_ADMIN_KEY_REVOKED", `The admin key ${fingerprint} was revoked: enrol a new key`);
const replayed = (message: string) => new GatewayError("PLATFORM_ADMIN_CHALLENGE_REPLAYED", message);
const challengeExpired = (message: string) => new GatewayError("PLATFORM_ADMIN_CHALLENGE_EXPIRED", message);
