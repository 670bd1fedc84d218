import { Elysia, type Static, t } from "elysia";
import type { Sql } from "postgres";
import { generateApiKey } from "../auth/api-key-format.ts";
import type { KeyRowBase } from "../auth/key-store.ts";
import { KEY_LIMIT_FIELDS, periodOf, type SettingsView } from "../config/limit-fields.ts";
import type { ChangeBus } from "../control/change-bus.ts";
import type { apiKeys } from "../db/schema/api-keys.ts";
import {
	type DbNum,
	selectSettings,
	settingNames,
	settingSqlTypes,
	settingsOf,
	settingValues,
} from "../db/setting-columns.ts";
import type { SqlRow } from "../db/sql-row.ts";
import { GatewayError } from "../errors/gateway-error.ts";
import { DailyCounters, hasDailyLimit } from "../limits/daily-counters.ts";
import type { Limiter } from "../limits/limiter.ts";
import type { AdminAuditLog } from "./admin-audit.ts";
import { adminBody } from "./admin-body.ts";
import { param, type QuerySchema, readQuery } from "./admin-query.ts";
import { settingProperties } from "./setting-schemas.ts";

const KeyFields = {
	name: t.Optional(t.Union([t.String({ maxLength: 200 }), t.Null()])),
	/** An allowlist; null (or absent) = every model. An empty list would allow nothing, so it is refused. */
	models: t.Optional(
		t.Union([t.Array(t.String({ minLength: 1, maxLength: 200 }), { minItems: 1, maxItems: 1000 }), t.Null()], {
			description: "a list of 1 to 1000 model names, or null for every model",
		}),
	),
	...settingProperties("key"),
	/** ISO 8601; null = never. */
	expires_at: t.Optional(t.Union([t.String({ minLength: 1 }), t.Null()])),
};

export const CreateKeyBody = t.Object(
	{
		tenant_id: t.String({
			minLength: 1,
			maxLength: 128,
			pattern: "^[A-Za-z0-9_.:-]+$",
		}),
		...KeyFields,
	},
	{ additionalProperties: false },
);
export const PatchKeyBody = t.Object(KeyFields, {
	additionalProperties: false,
});
/** GET /admin/keys parameters. */
export const KeyListQuery = t.Object({
	tenant_id: param("only this tenant's keys"),
	include_revoked: param("true to list revoked keys too"),
}) satisfies QuerySchema;
export type CreateKeyInput = Static<typeof CreateKeyBody>;
export type PatchKeyInput = Static<typeof PatchKeyBody>;

/** `log_bodies` null = inherited from the tenant, else `[logging] log_bodies`. */
export type KeyView = {
	id: string;
	object: "api_key";
	tenant_id: string;
	name: string | null;
	prefix: string;
	models: string[] | null;
} & SettingsView<"key"> & {
		expires_at: string | null;
		revoked_at: string | null;
		created_at: string;
		updated_at: string;
		/** Live counters from the shared limit table (this instance); only on keys with a limit. */
		usage?: { requests_today: number; tokens_today: number; spent_usd: number; spent_usd_this_period: number };
	};

type KeyRow = KeyRowBase &
	Pick<SqlRow<typeof apiKeys>, "name" | "prefix"> & {
		created_ms: DbNum;
		updated_ms: DbNum;
	};

const iso = (v: DbNum): string | null => (v === null ? null : new Date(Math.round(Number(v))).toISOString());

/** Column → SQL type, for the PATCH-able and insertable fields. */
const COLUMNS = {
	name: "text",
	models: "text[]",
	...settingSqlTypes("key"),
	expires_at: "timestamptz",
};

const notFound = (id: string) =>
	new GatewayError("PLATFORM_NOT_FOUND", `No API key with id '${id}'`, {
		param: "id",
	});

/** Accepts ISO 8601 (or null); refuses anything Date cannot read. */
export function parseIsoOrNull(v: string | null | undefined, param: string): string | null | undefined {
	if (v === undefined || v === null) return v;
	const ms = Date.parse(v);
	if (Number.isNaN(ms))
		throw new GatewayError("PLATFORM_INVALID_REQUEST", `${param} must be an ISO 8601 date`, { param });
	return new Date(ms).toISOString();
}

export const randomId = (prefix: string) => `${prefix}_${crypto.randomUUID().replaceAll("-", "").slice(0, 24)}`;

/** Virtual keys: the full key is returned once by `create`; the database holds its SHA-256. */
export class KeyService {
	constructor(
		private readonly sql: Sql,
		private readonly bus: ChangeBus | null,
		private readonly limiter: Limiter | null = null,
	) {}

	async create(input: CreateKeyInput): Promise<KeyView & { key: string }> {
		const expires = parseIsoOrNull(input.expires_at, "expires_at") ?? null;
		const generated = generateApiKey();
		const id = randomId("key");
		const sql = this.sql;
		// Tenants are a grouping: naming one creates it (limits can be set later).
		await sql`insert into tenants (id, name) values (${input.tenant_id}, ${input.tenant_id}) on conflict (id) do nothing`;
		await sql`
			insert into api_keys (id, tenant_id, name, prefix, key_hash, models, ${settingNames(sql, "key")}, expires_at)
			values (${id}, ${input.tenant_id}, ${input.name ?? null}, ${generated.prefix}, ${generated.hash},
				${input.models ? sql.array(input.models) : null}::text[], ${settingValues(sql, "key", input)}, ${expires}::timestamptz)`;
		await this.bus?.publish({ kind: "key-created" });
		return { ...(await this.get(id)), key: generated.key };
	}

	async list(q: { tenant_id?: string; include_revoked?: string }): Promise<KeyView[]> {
		const conds = [this.sql`true`];
		if (q.tenant_id) conds.push(this.sql`tenant_id = ${q.tenant_id}`);
		if (q.include_revoked !== "true") conds.push(this.sql`revoked_at is null`);
		const where = conds.reduce((a, c) => this.sql`${a} and ${c}`);
		const rows = await this.sql<KeyRow[]>`${this.select()} where ${where} order by created_at desc, id`;
		return rows.map((r) => this.view(r));
	}

	async get(id: string): Promise<KeyView> {
		const rows = await this.sql<KeyRow[]>`${this.select()} where id = ${id}`;
		if (!rows[0]) throw notFound(id);
		return this.view(rows[0]);
	}

	async update(id: string, patch: PatchKeyInput): Promise<KeyView> {
		const sql = this.sql;
		const values: Record<string, unknown> = { ...patch };
		if ("expires_at" in values) values.expires_at = parseIsoOrNull(patch.expires_at, "expires_at");
		const sets = Object.entries(COLUMNS)
			.filter(([col]) => values[col] !== undefined)
			.map(([col, type]) => {
				const v = values[col];
				const param = col === "models" && Array.isArray(v) ? sql.array(v as string[]) : v;
				return sql`${sql(col)} = ${param as string}::${sql.unsafe(type)}`;
			});
		if (sets.length > 0) {
			const set = sets.reduce((a, c) => sql`${a}, ${c}`);
			const r = await sql`update api_keys set ${set}, updated_at = now() where id = ${id} returning id`;
			if (r.length === 0) throw notFound(id);
			await this.bus?.publish({ kind: "key", id, seed: hasDailyLimit(patch) });
		}
		return this.get(id);
	}

	/** DELETE: sets revoked_at (rows stay for the logs); every worker drops the key at once. */
	async revoke(id: string): Promise<KeyView> {
		const r = await this.sql`
			update api_keys set revoked_at = coalesce(revoked_at, now()), updated_at = now() where id = ${id} returning id`;
		if (r.length === 0) throw notFound(id);
		await this.bus?.publish({ kind: "key", id });
		return this.get(id);
	}

	private select() {
		return this.sql`
			select id, tenant_id, name, prefix, models, ${selectSettings(this.sql, "key")},
				(extract(epoch from expires_at) * 1000)::float8 as expires_ms,
				(extract(epoch from revoked_at) * 1000)::float8 as revoked_ms,
				(extract(epoch from created_at) * 1000)::float8 as created_ms,
				(extract(epoch from updated_at) * 1000)::float8 as updated_ms
			from api_keys`;
	}

	private view(r: KeyRow): KeyView {
		const v: KeyView = {
			id: r.id,
			object: "api_key",
			tenant_id: r.tenant_id,
			name: r.name,
			prefix: r.prefix,
			models: r.models,
			...settingsOf(r, "key"),
			expires_at: iso(r.expires_ms),
			revoked_at: iso(r.revoked_ms),
			created_at: iso(r.created_ms) as string,
			updated_at: iso(r.updated_ms) as string,
		};
		// the live counters run only for keys with a limit (see admission.ts)
		if (this.limiter && hasAnyLimit(v)) {
			const slot = this.limiter.table.find(`key:${r.id}`);
			const period = periodOf(r.budget_period);
			const s = slot >= 0 ? new DailyCounters(this.limiter.table).read(slot, Date.now(), period) : null;
			const spent = s?.spentMicroUsd ?? 0;
			v.usage = {
				requests_today: s?.requests ?? 0,
				tokens_today: s?.tokens ?? 0,
				spent_usd: spent / 1_000_000,
				spent_usd_this_period: (s?.period?.spentMicroUsd ?? spent) / 1_000_000,
			};
		}
		return v;
	}
}

const hasAnyLimit = (v: KeyView) => KEY_LIMIT_FIELDS.some((f) => v[f] !== null);

/** /admin/keys: thin controller over KeyService. */
export function keyRoutes(service: KeyService, audit: AdminAuditLog) {
	const createBody = adminBody(CreateKeyBody);
	const patchBody = adminBody(PatchKeyBody);
	const before = (id: string) => () => service.get(id);
	return new Elysia()
		.post("/keys", async ({ request, set }) => {
			const body = await createBody(request);
			set.status = 201;
			return audit.audited(request, { action: "key.create", type: "key", id: (k) => k.id }, () => service.create(body));
		})
		.get("/keys", async ({ request }) => ({
			object: "list",
			data: await service.list(readQuery(KeyListQuery, request)),
		}))
		.get("/keys/:id", ({ params }) => service.get(params.id))
		.patch("/keys/:id", async ({ params, request }) => {
			const body = await patchBody(request);
			return audit.audited(
				request,
				{ action: "key.update", type: "key", id: params.id, before: before(params.id) },
				() => service.update(params.id, body),
			);
		})
		.delete("/keys/:id", ({ params, request }) =>
			audit.audited(request, { action: "key.revoke", type: "key", id: params.id, before: before(params.id) }, () =>
				service.revoke(params.id),
			),
		);
}
