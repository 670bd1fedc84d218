import type { Sql } from "postgres";
import type { BudgetPeriod } from "../config/budget-period.ts";
import { KEY_LIMIT_FIELDS, type KeyLimits, type NumericLimitField, periodOf } from "../config/limit-fields.ts";
import type { LogBodies } from "../config/logging-config.ts";
import type { apiKeys } from "../db/schema/api-keys.ts";
import { type DbNum, type SettingsRow, selectSettings, settingsOf } from "../db/setting-columns.ts";
import type { SqlRow } from "../db/sql-row.ts";
import type { Principal } from "./principal.ts";

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

export type { DbNum } from "../db/setting-columns.ts";

/** A numeric column as a number; null stays null. */
export const numOrNull = (v: DbNum): number | null => (v === null ? null : Number(v));

/** The api_keys columns both the auth lookup and the admin API select (times as epoch ms). */
export type KeyRowBase = Pick<SqlRow<typeof apiKeys>, "id" | "tenant_id" | "models"> &
	SettingsRow<"key"> & {
		expires_ms: DbNum;
		revoked_ms: DbNum;
	};

type KeyRow = KeyRowBase & SettingsRow<"tenant", "t_"> & { tenant_found: boolean | null };

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

/** The limits among a subject's settings as the admin API shows them (null = unset, `total` = no period). */
export function limitsOf(
	v: Partial<Record<NumericLimitField, number | null>> & { budget_period: BudgetPeriod },
): KeyLimits {
	const out: KeyLimits = {};
	for (const f of KEY_LIMIT_FIELDS) {
		const n = v[f];
		if (n !== null && n !== undefined) out[f] = n;
	}
	return compactLimits({ ...out, budget_period: periodOf(v.budget_period) });
}

export function recordFromRow(r: KeyRow): KeyRecord {
	const key = settingsOf(r, "key");
	const tenant = settingsOf(r, "tenant", "t_");
	const tenantLimits = limitsOf(tenant);
	const logBodies = key.log_bodies ?? tenant.log_bodies ?? undefined;
	return {
		id: r.id,
		tenantId: r.tenant_id,
		models: r.models && r.models.length > 0 ? r.models : null,
		limits: limitsOf(key),
		tenantLimits: Object.keys(tenantLimits).length > 0 ? tenantLimits : null,
		expiresAt: numOrNull(r.expires_ms),
		revokedAt: numOrNull(r.revoked_ms),
		...(logBodies ? { logBodies } : {}),
	};
}

/** Key store over api_keys ⋈ tenants. Timestamps travel as epoch ms (driver-independent). */
export function createDbKeyStore(sql: Sql): KeyStore {
	return {
		async findByHash(hash) {
			const rows = await sql<KeyRow[]>`
				select k.id, k.tenant_id, k.models, ${selectSettings(sql, "key", "k")},
					(extract(epoch from k.expires_at) * 1000)::float8 as expires_ms,
					(extract(epoch from k.revoked_at) * 1000)::float8 as revoked_ms,
					t.id is not null as tenant_found, ${selectSettings(sql, "tenant", "t", "t_")}
				from api_keys k left join tenants t on t.id = k.tenant_id
				where k.key_hash = ${hash}
				limit 1`;
			const row = rows[0];
			return row ? recordFromRow(row) : null;
		},
	};
}
