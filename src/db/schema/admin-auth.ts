import { index, pgTable, text, timestamp } from "drizzle-orm/pg-core";

/** Operators' Ed25519 public keys: who may log in by challenge-response. */
export const adminKeys = pgTable("admin_keys", {
	id: text("id").primaryKey(),
	name: text("name").notNull(),
	/** The raw 32 bytes, base64. */
	publicKey: text("public_key").notNull().unique(),
	/** OpenSSH's `SHA256:…` of the key. */
	fingerprint: text("fingerprint").notNull().unique(),
	createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
	revokedAt: timestamp("revoked_at", { withTimezone: true }),
});

/**
 * Login challenges, in Postgres so that any worker of any instance can redeem one. Single use:
 * `used_at` is set by the one update that wins. Rows also count attempts for the rate limit.
 */
export const adminChallenges = pgTable(
	"admin_challenges",
	{
		id: text("id").primaryKey(),
		adminKeyId: text("admin_key_id").notNull(),
		fingerprint: text("fingerprint").notNull(),
		/** The exact text the client signs. */
		message: text("message").notNull(),
		clientIp: text("client_ip").notNull(),
		createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
		expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
		usedAt: timestamp("used_at", { withTimezone: true }),
	},
	(t) => [index("admin_challenges_created_idx").on(t.createdAt)],
);

/** Admin sessions; only the SHA-256 of the token is stored. A null key: made from the admin token (console link). */
export const adminSessions = pgTable("admin_sessions", {
	id: text("id").primaryKey(),
	tokenHash: text("token_hash").notNull().unique(),
	adminKeyId: text("admin_key_id"),
	fingerprint: text("fingerprint"),
	clientIp: text("client_ip").notNull(),
	createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
	expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
	revokedAt: timestamp("revoked_at", { withTimezone: true }),
});

/** One-time console login codes (a link the CLI prints); only the SHA-256 of the code is stored. */
export const adminLoginCodes = pgTable("admin_login_codes", {
	codeHash: text("code_hash").primaryKey(),
	/** The session that asked for the link, whose key and fingerprint the new session inherits. */
	sessionId: text("session_id"),
	adminKeyId: text("admin_key_id"),
	fingerprint: text("fingerprint"),
	expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
	usedAt: timestamp("used_at", { withTimezone: true }),
});
