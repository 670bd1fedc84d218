import { type Static, Type as t } from "@sinclair/typebox";
import type { Sql } from "postgres";
import { maskSecret } from "../crypto/secret-box.ts";
import { GatewayError } from "../errors/gateway-error.ts";
import { adminCallerOf } from "./admin-caller.ts";
import { param, type QuerySchema } from "./admin-query.ts";
import { parseTimeParam } from "./time-param.ts";

/** One admin change, as a route reports it. */
export interface AdminAction {
	/** `<target type>.<verb>`: `key.create`, `account.enable`, … */
	action: string;
	target: { type: string; id: string | null };
	/** The object before and after (null where it did not or no longer exists); masked here. */
	before?: unknown;
	after?: unknown;
}

export interface AuditEntry {
	id: string;
	object: "admin_audit_entry";
	at: string;
	actor: string;
	actor_fingerprint: string | null;
	action: string;
	target: { type: string; id: string | null };
	before: unknown;
	after: unknown;
	client_address: string | null;
	request_id: string | null;
}

export const AuditQuery = t.Object({
	action: param("an action (key.create), or a prefix ending in * (key.*)"),
	target: param("a target type (key), or type:id (key:key_123)"),
	actor: param("token, or session:<id>"),
	since: param("ISO 8601, epoch ms, or a span back from now (30m, 24h, 7d)"),
	until: param("ISO 8601, epoch ms, or a span back from now"),
	limit: param("1 to 500 (default 50)"),
	cursor: param("next_cursor of the previous page"),
}) satisfies QuerySchema;

/** Field names whose values are credentials wherever they appear. */
const SECRET_FIELD = /^(key|api_key|token|secret|password|authorization|x-api-key|api-key)$|secret|token|password/i;

/**
 * A copy with every credential masked (`sk-…abcd`): fields named like one, and every value
 * under `headers` (extra upstream headers often carry credentials). Live routing state
 * (`live`) and live counters (`usage`) are dropped: they are not part of the change.
 */
export function maskForAudit(value: unknown, key = ""): unknown {
	if (Array.isArray(value)) return value.map((v) => maskForAudit(v));
	if (value === null || typeof value !== "object") {
		if (typeof value === "string" && SECRET_FIELD.test(key)) return value.includes("…") ? value : maskSecret(value);
		return value;
	}
	const out: Record<string, unknown> = {};
	for (const [k, v] of Object.entries(value)) {
		if (k === "live" || k === "usage") continue;
		if (k === "headers" && v && typeof v === "object" && !Array.isArray(v)) {
			out[k] = Object.fromEntries(
				Object.entries(v).map(([h, hv]) => [h, typeof hv === "string" && !hv.includes("…") ? maskSecret(hv) : hv]),
			);
		} else out[k] = maskForAudit(v, k);
	}
	return out;
}

const encodeCursor = (at: string, id: string) => Buffer.from(JSON.stringify([at, id])).toString("base64url");
function decodeCursor(cursor: string): [string, string] {
	try {
		const v = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
		if (Array.isArray(v) && typeof v[0] === "string" && typeof v[1] === "string" && !Number.isNaN(Date.parse(v[0])))
			return [v[0], v[1]];
	} catch {}
	throw new GatewayError("PLATFORM_INVALID_REQUEST", "cursor is not valid", { param: "cursor" });
}

interface AuditDbRow {
	id: string;
	at_ms: number;
	actor: string;
	actor_fingerprint: string | null;
	action: string;
	target_type: string;
	target_id: string | null;
	before: unknown;
	after: unknown;
	client_address: string | null;
	request_id: string | null;
}

/**
 * The admin audit trail (`admin_audit`). Every mutating admin route reports its change
 * through `audited` (or `record`), which takes the caller from the call itself (bound by the
 * admin guard). The services do not use transactions (the embedded server shares one session
 * between its sockets), so the row is written right after the change has succeeded; a change
 * that fails leaves no row.
 */
export class AdminAuditLog {
	constructor(private readonly sql: Sql) {}

	/** recordAdminAction: one row for a change the call `request` made. */
	async record(request: Request, a: AdminAction): Promise<void> {
		const caller = adminCallerOf(request);
		if (!caller) throw new Error("admin change outside the admin guard: no caller to audit");
		const json = (v: unknown) => (v === undefined || v === null ? null : JSON.stringify(maskForAudit(v)));
		await this.sql`
			insert into admin_audit (id, actor, actor_fingerprint, action, target_type, target_id, before, after,
				client_address, request_id)
			values (${Bun.randomUUIDv7()}, ${caller.actor}, ${caller.fingerprint}, ${a.action}, ${a.target.type},
				${a.target.id}, ${json(a.before)}::jsonb, ${json(a.after)}::jsonb, ${caller.clientAddress}, ${caller.requestId})`;
	}

	/**
	 * Runs a change and records it: `before` is read first (null when the object does not
	 * exist yet), the result is the `after` (null for an answer that says `deleted`).
	 */
	async audited<T>(
		request: Request,
		spec: {
			action: string;
			type: string;
			id: string | ((result: T) => string);
			before?: () => Promise<unknown>;
		},
		run: () => Promise<T>,
	): Promise<T> {
		const before = spec.before ? await spec.before().catch(nullIfNotFound) : null;
		const result = await run();
		const gone = typeof result === "object" && result !== null && (result as { deleted?: unknown }).deleted === true;
		await this.record(request, {
			action: spec.action,
			target: { type: spec.type, id: typeof spec.id === "function" ? spec.id(result) : spec.id },
			before,
			after: gone ? null : result,
		});
		return result;
	}

	/** Newest first, keyset-paged by (at, id). */
	async list(
		q: Partial<Static<typeof AuditQuery>>,
	): Promise<{ object: "list"; data: AuditEntry[]; next_cursor: string | null }> {
		const sql = this.sql;
		const limit = q.limit === undefined || q.limit === "" ? 50 : Number(q.limit);
		if (!Number.isInteger(limit) || limit < 1 || limit > 500)
			throw new GatewayError("PLATFORM_INVALID_REQUEST", "limit must be an integer from 1 to 500", { param: "limit" });
		const since = parseTimeParam(q.since, "since");
		const until = parseTimeParam(q.until, "until");
		const conds = [sql`true`];
		if (q.action?.endsWith("*")) conds.push(sql`starts_with(action, ${q.action.slice(0, -1)})`);
		else if (q.action) conds.push(sql`action = ${q.action}`);
		if (q.target) {
			const colon = q.target.indexOf(":");
			if (colon < 0) conds.push(sql`target_type = ${q.target}`);
			else conds.push(sql`target_type = ${q.target.slice(0, colon)} and target_id = ${q.target.slice(colon + 1)}`);
		}
		if (q.actor) conds.push(sql`actor = ${q.actor}`);
		if (since !== null) conds.push(sql`at >= ${new Date(since).toISOString()}::timestamptz`);
		if (until !== null) conds.push(sql`at < ${new Date(until).toISOString()}::timestamptz`);
		if (q.cursor) {
			const [at, id] = decodeCursor(q.cursor);
			conds.push(sql`(at, id) < (${at}::timestamptz, ${id})`);
		}
		const where = conds.reduce((acc, c) => sql`${acc} and ${c}`);
		// at travels as epoch ms: timestamptz parsing differs between postgres.js setups
		const rows = await sql<AuditDbRow[]>`
			select id, (extract(epoch from at) * 1000)::float8 as at_ms, actor, actor_fingerprint, action, target_type,
				target_id, before, after, client_address, request_id
			from admin_audit where ${where}
			order by at desc nulls last, id desc nulls last
			limit ${limit + 1}`;
		const data = rows.slice(0, limit).map(
			(r): AuditEntry => ({
				id: r.id,
				object: "admin_audit_entry",
				at: new Date(Math.round(Number(r.at_ms))).toISOString(),
				actor: r.actor,
				actor_fingerprint: r.actor_fingerprint,
				action: r.action,
				target: { type: r.target_type, id: r.target_id },
				before: r.before,
				after: r.after,
				client_address: r.client_address,
				request_id: r.request_id,
			}),
		);
		const last = data[data.length - 1];
		return { object: "list", data, next_cursor: rows.length > limit && last ? encodeCursor(last.at, last.id) : null };
	}
}

function nullIfNotFound(err: unknown): null {
	if (err instanceof GatewayError && err.code === "PLATFORM_NOT_FOUND") return null;
	throw err;
}
