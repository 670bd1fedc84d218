import { index, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";

/**
 * One row per admin change (keys, tenants, providers, accounts, prices, …): who, what, on
 * which target, the object before and after with its secrets masked, when and from where.
 * Rows are only ever inserted.
 */
export const adminAudit = pgTable(
	"admin_audit",
	{
		/** UUIDv7: time-ordered, the cursor's tie-breaker. */
		id: text("id").primaryKey(),
		at: timestamp("at", { withTimezone: true, mode: "date", precision: 3 }).notNull().defaultNow(),
		/** `token` (the admin token) or `session:<id>` (an Ed25519 login session). */
		actor: text("actor").notNull(),
		/** The session's public-key fingerprint; null for the admin token. */
		actorFingerprint: text("actor_fingerprint"),
		/** `<target type>.<verb>`, e.g. `key.create`, `account.enable`. */
		action: text("action").notNull(),
		targetType: text("target_type").notNull(),
		targetId: text("target_id"),
		/** The object before and after the change, secrets masked; null where it did not exist. */
		before: jsonb("before"),
		after: jsonb("after"),
		/** The caller's address: the socket's, or x-forwarded-for behind a trusted proxy. */
		clientAddress: text("client_address"),
		/** The x-request-id of the admin call. */
		requestId: text("request_id"),
	},
	(t) => [
		index("admin_audit_at_idx").on(t.at.desc(), t.id.desc()),
		index("admin_audit_action_at_idx").on(t.action, t.at.desc()),
		index("admin_audit_target_at_idx").on(t.targetType, t.targetId, t.at.desc()),
		index("admin_audit_actor_at_idx").on(t.actor, t.at.desc()),
	],
);
