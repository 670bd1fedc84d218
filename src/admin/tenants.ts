import { Elysia, type Static, t } from "elysia";
import type { Sql } from "postgres";
import type { SettingsView } from "../config/limit-fields.ts";
import type { ChangeBus } from "../control/change-bus.ts";
import type { tenants } from "../db/schema/tenants.ts";
import {
	type DbNum,
	type SettingsRow,
	selectSettings,
	settingNames,
	settingSqlTypes,
	settingsOf,
	settingValues,
} from "../db/setting-columns.ts";
import type { SqlRow } from "../db/sql-row.ts";
import { GatewayError } from "../errors/gateway-error.ts";
import { hasDailyLimit } from "../limits/daily-counters.ts";
import type { AdminAuditLog } from "./admin-audit.ts";
import { adminBody } from "./admin-body.ts";
import { randomId } from "./keys.ts";
import { settingProperties } from "./setting-schemas.ts";

const TenantFields = settingProperties("tenant");
export const CreateTenantBody = t.Object(
	{
		id: t.Optional(t.String({ minLength: 1, maxLength: 128, pattern: "^[A-Za-z0-9_.:-]+$" })),
		name: t.String({ minLength: 1, maxLength: 200 }),
		...TenantFields,
	},
	{ additionalProperties: false },
);
export const PatchTenantBody = t.Object(
	{
		name: t.Optional(t.String({ minLength: 1, maxLength: 200 })),
		...TenantFields,
	},
	{ additionalProperties: false },
);
export type CreateTenantInput = Static<typeof CreateTenantBody>;
export type PatchTenantInput = Static<typeof PatchTenantBody>;

type TenantRow = Pick<SqlRow<typeof tenants>, "id" | "name"> &
	SettingsRow<"tenant"> & {
		created_ms: DbNum;
		keys: DbNum;
	};

/** `log_bodies` null = `[logging] log_bodies`; a key's own setting wins over it. */
export type TenantView = { id: string; object: "tenant"; name: string } & SettingsView<"tenant"> & {
		/** Keys not revoked. */
		active_keys: number;
		created_at: string;
	};

const COLUMNS = { name: "text", ...settingSqlTypes("tenant") };

const notFound = (id: string) =>
	new GatewayError("PLATFORM_NOT_FOUND", `No tenant with id '${id}'`, {
		param: "id",
	});

/** Tenants group keys; their optional limits apply to all their keys together. */
export class TenantService {
	constructor(
		private readonly sql: Sql,
		private readonly bus: ChangeBus | null,
	) {}

	async create(input: CreateTenantInput): Promise<TenantView> {
		const id = input.id ?? randomId("ten");
		const r = await this.sql`
			insert into tenants (id, name, ${settingNames(this.sql, "tenant")})
			values (${id}, ${input.name}, ${settingValues(this.sql, "tenant", input)})
			on conflict (id) do nothing returning id`;
		if (r.length === 0) {
			throw new GatewayError("PLATFORM_CONFLICT", `A tenant with id '${id}' already exists`, { param: "id" });
		}
		await this.bus?.publish({ kind: "tenant", id, seed: hasDailyLimit(input) });
		return this.get(id);
	}

	async list(): Promise<TenantView[]> {
		const rows = await this.sql<TenantRow[]>`${this.select()} order by t.created_at desc, t.id`;
		return rows.map(view);
	}

	async get(id: string): Promise<TenantView> {
		const rows = await this.sql<TenantRow[]>`${this.select()} where t.id = ${id}`;
		if (!rows[0]) throw notFound(id);
		return view(rows[0]);
	}

	async update(id: string, patch: PatchTenantInput): Promise<TenantView> {
		const sql = this.sql;
		const values = patch as Record<string, unknown>;
		const sets = Object.entries(COLUMNS)
			.filter(([col]) => values[col] !== undefined)
			.map(([col, type]) => sql`${sql(col)} = ${values[col] as string}::${sql.unsafe(type)}`);
		if (sets.length > 0) {
			const r = await sql`update tenants set ${sets.reduce((a, c) => sql`${a}, ${c}`)} where id = ${id} returning id`;
			if (r.length === 0) throw notFound(id);
			await this.bus?.publish({ kind: "tenant", id, seed: hasDailyLimit(patch) });
		}
		return this.get(id);
	}

	/** Refused while keys still belong to the tenant: their rows would point nowhere. */
	async remove(id: string): Promise<{ id: string; object: "tenant"; deleted: true }> {
		const [{ n }] = await this.sql<{ n: DbNum }[]>`select count(*)::int as n from api_keys where tenant_id = ${id}`;
		if (Number(n) > 0) {
			throw new GatewayError(
				"PLATFORM_CONFLICT",
				`Tenant '${id}' still has ${n} key(s); revoke and keep them, or keep the tenant`,
				{
					param: "id",
				},
			);
		}
		const r = await this.sql`delete from tenants where id = ${id} returning id`;
		if (r.length === 0) throw notFound(id);
		await this.bus?.publish({ kind: "tenant", id });
		return { id, object: "tenant", deleted: true };
	}

	private select() {
		return this.sql`
			select t.id, t.name, ${selectSettings(this.sql, "tenant", "t")},
				(extract(epoch from t.created_at) * 1000)::float8 as created_ms,
				(select count(*) from api_keys k where k.tenant_id = t.id and k.revoked_at is null)::int as keys
			from tenants t`;
	}
}

function view(r: TenantRow): TenantView {
	return {
		id: r.id,
		object: "tenant",
		name: r.name,
		...settingsOf(r, "tenant"),
		active_keys: Number(r.keys ?? 0),
		created_at: new Date(Math.round(Number(r.created_ms))).toISOString(),
	};
}

/** /admin/tenants: thin controller over TenantService. */
export function tenantRoutes(service: TenantService, audit: AdminAuditLog) {
	const createBody = adminBody(CreateTenantBody);
	const patchBody = adminBody(PatchTenantBody);
	const before = (id: string) => () => service.get(id);
	return new Elysia()
		.post("/tenants", async ({ request, set }) => {
			const body = await createBody(request);
			set.status = 201;
			return audit.audited(request, { action: "tenant.create", type: "tenant", id: (v) => v.id }, () =>
				service.create(body),
			);
		})
		.get("/tenants", async () => ({
			object: "list",
			data: await service.list(),
		}))
		.get("/tenants/:id", ({ params }) => service.get(params.id))
		.patch("/tenants/:id", async ({ params, request }) => {
			const body = await patchBody(request);
			return audit.audited(
				request,
				{ action: "tenant.update", type: "tenant", id: params.id, before: before(params.id) },
				() => service.update(params.id, body),
			);
		})
		.delete("/tenants/:id", ({ params, request }) =>
			audit.audited(
				request,
				{ action: "tenant.delete", type: "tenant", id: params.id, before: before(params.id) },
				() => service.remove(params.id),
			),
		);
}
