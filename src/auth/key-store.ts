import type { Sql } from "postgres";
import { isLogBodies, type LogBodies } from "../config/logging-config.ts";
import { KEY_LIMIT_FIELDS, type KeyLimits, type Principal, periodOf } from "./principal.ts";

/** A client key as the auth path needs it: identity, allowlist, limits and its tenant's limits. */
export interface KeyRecord {
	id: string;
	tenantId: string;
	models: string[] | null;
	limits: KeyLimits;
	/** Null when the tenant row is missing or sets no limit. */
	tenantLimits: KeyLimits | null;
	/** Epoch ms; null = never. */
	expiresAt: number | null;
	revokedAt: number | null;
	/** The key's own `log_bodies`, else its tenant's; undefined = the global setting. */
	logBodies?: LogBodies;
}

/** A Principal that also carries its tenant's limits (admission checks both subjects). */
export interface KeyPrincipal extends Principal {
	tenantLimits: KeyLimits | null;
}

export function tenantLimitsOf(principal: Principal): KeyLimits | null {
	return (principal as Partial<KeyPrincipal>).tenantLimits ?? null;
}

/** Looks keys up by the SHA-256 of the presented key; the only thing the database knows. */
export interface KeyStore {
	findByHash(hash: string): Promise<KeyRecord | null>;
}

/** A numeric column as postgres.js returns it (bigint and numeric come back as strings). */
export type DbNum = number | string | null;

/** A numeric column as a number; null stays null. */
export const numOrNull = (v: DbNum): number | null => (v === null ? null : Number(v));

/** The api_keys columns both the auth lookup and the admin API select (times as epoch ms). */
export interface KeyRowBase {
	id: string;
	tenant_id: string;
	models: string[] | null;
	rpm: DbNum;
	tpm: DbNum;
	max_concurrency: DbNum;
	quota_daily_requests: DbNum;
	quota_daily_tokens: DbNum;
	budget_usd: DbNum;
	budget_period: string;
	log_bodies: string | null;
	expires_ms: DbNum;
	revoked_ms: DbNum;
}

interface KeyRow extends KeyRowBase {
	tenant_found: boolean | null;
	t_rpm: DbNum;
	t_tpm: DbNum;
	t_quota_daily_requests: DbNum;
	t_quota_daily_tokens: DbNum;
	t_budget_usd: DbNum;
	t_budget_period: string | null;
	t_log_bodies: string | null;
}

const n = (v: DbNum): number | undefined => (v === null || v === undefined ? undefined : Number(v));

/**
 * Drops absent fields so `{}` means "no limits" and tests can compare shapes; a budget period
 * is kept only with a budget.
 */
export function compactLimits(l: KeyLimits): KeyLimits {
	const out: KeyLimits = {};
	for (const f of KEY_LIMIT_FIELDS) {
		const v = l[f];
		if (v !== undefined && Number.isFinite(v)) out[f] = v;
	}
	if (out.budget_usd !== undefined && l.budget_period) out.budget_period = l.budget_period;
	return out;
}

export function recordFromRow(r: KeyRow): KeyRecord {
	const tenant = compactLimits({
		rpm: n(r.t_rpm),
		tpm: n(r.t_tpm),
		quota_daily_requests: n(r.t_quota_daily_requests),
		quota_daily_tokens: n(r.t_quota_daily_tokens),
		budget_usd: n(r.t_budget_usd),
		budget_period: periodOf(r.t_budget_period),
	});
	const logBodies = isLogBodies(r.log_bodies) ? r.log_bodies : isLogBodies(r.t_log_bodies) ? r.t_log_bodies : undefined;
	return {
		id: r.id,
		tenantId: r.tenant_id,
		models: r.models && r.models.length > 0 ? r.models : null,
		limits: compactLimits({
			rpm: n(r.rpm),
			tpm: n(r.tpm),
			max_concurrency: n(r.max_concurrency),
			quota_daily_requests: n(r.quota_daily_requests),
			quota_daily_tokens: n(r.quota_daily_tokens),
			budget_usd: n(r.budget_usd),
			budget_period: periodOf(r.budget_period),
		}),
		tenantLimits: Object.keys(tenant).length > 0 ? tenant : null,
		expiresAt: n(r.expires_ms) ?? null,
		revokedAt: n(r.revoked_ms) ?? null,
		...(logBodies ? { logBodies } : {}),
	};
}

/** Key store over api_keys ⋈ tenants. Timestamps travel as epoch ms (driver-independent). */
export function createDbKeyStore(sql: Sql): KeyStore {
	return {
		async findByHash(hash) {
			const rows = await sql<KeyRow[]>`
				select k.id, k.tenant_id, k.models, k.rpm, k.tpm, k.max_concurrency,
					k.quota_daily_requests, k.quota_daily_tokens, k.budget_usd::float8 as budget_usd, k.budget_period, k.log_bodies,
					(extract(epoch from k.expires_at) * 1000)::float8 as expires_ms,
					(extract(epoch from k.revoked_at) * 1000)::float8 as revoked_ms,
					t.id is not null as tenant_found,
					t.rpm as t_rpm, t.tpm as t_tpm, t.quota_daily_requests as t_quota_daily_requests,
					t.quota_daily_tokens as t_quota_daily_tokens, t.budget_usd::float8 as t_budget_usd, t.budget_period as t_budget_period,
					t.log_bodies as t_log_bodies
				from api_keys k left join tenants t on t.id = k.tenant_id
				where k.key_hash = ${hash}
				limit 1`;
			const row = rows[0];
			return row ? recordFromRow(row) : null;
		},
	};
}
