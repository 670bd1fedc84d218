import { Elysia, type Static, t } from "elysia";
import type { Sql } from "postgres";
import { selectWebhooks, type WebhookRow, webhookSecretContext } from "../alerts/webhook-store.ts";
import { ALERT_EVENTS, ALERT_FORMATS, type AlertWebhookConfig } from "../config/alerts-config.ts";
import { maskSecret, type SecretBox } from "../crypto/secret-box.ts";
import { GatewayError } from "../errors/gateway-error.ts";
import type { AdminAuditLog } from "./admin-audit.ts";
import { adminBody } from "./admin-body.ts";
import { randomId } from "./keys.ts";
import { type UpstreamUrlPolicy, validateUpstreamUrl } from "./url-safety.ts";

const Events = t.Union(
	[t.Array(t.Union(ALERT_EVENTS.map((e) => t.Literal(e))), { minItems: 1, maxItems: ALERT_EVENTS.length }), t.Null()],
	{ description: `a list of events (${ALERT_EVENTS.join(", ")}), or null for every event` },
);
const Format = t.Union(
	ALERT_FORMATS.map((f) => t.Literal(f)),
	{ description: ALERT_FORMATS.join(" or ") },
);
const Secret = t.Union([t.String({ minLength: 8, maxLength: 500 }), t.Null()], {
	description: "a string of 8 to 500 characters (the HMAC-SHA256 signing key), or null for unsigned",
});
const Url = t.String({ minLength: 1, maxLength: 2_000 });

export const CreateAlertBody = t.Object(
	{ url: Url, events: t.Optional(Events), format: t.Optional(Format), secret: t.Optional(Secret) },
	{ additionalProperties: false },
);
export const PatchAlertBody = t.Object(
	{ url: t.Optional(Url), events: t.Optional(Events), format: t.Optional(Format), secret: t.Optional(Secret) },
	{ additionalProperties: false },
);
export type CreateAlertInput = Static<typeof CreateAlertBody>;
export type PatchAlertInput = Static<typeof PatchAlertBody>;

export interface AlertWebhookView {
	id: string;
	object: "alert_webhook";
	/** `config`: from the TOML file (read-only here); `admin`: stored through this API. */
	source: "config" | "admin";
	url: string;
	/** Null = every event. */
	events: string[] | null;
	format: string;
	/** Masked (`…abcd`); null when unsigned. */
	secret: string | null;
	created_at: string | null;
	updated_at: string | null;
}

const notFound = (id: string) =>
	new GatewayError("PLATFORM_NOT_FOUND", `No alert webhook with id '${id}'`, { param: "id" });
const iso = (ms: number) => new Date(Math.round(Number(ms))).toISOString();

/**
 * Alert webhooks: the TOML file's (listed, read-only) and those stored here, whose secrets are
 * sealed at rest and only ever shown masked. A URL passes the same checks as a provider's base
 * URL (no private, loopback or link-local target in production). The supervisor's alert loop
 * picks changes up within a few evaluations.
 */
export class AlertService {
	constructor(
		private readonly sql: Sql,
		private readonly box: SecretBox,
		private readonly policy: UpstreamUrlPolicy,
		private readonly fromConfig: readonly AlertWebhookConfig[],
	) {}

	async list(): Promise<AlertWebhookView[]> {
		const config = this.fromConfig.map(
			(w, i): AlertWebhookView => ({
				id: `config:${i}`,
				object: "alert_webhook",
				source: "config",
				url: w.url,
				events: w.events,
				format: w.format,
				secret: w.secret ? maskSecret(w.secret) : null,
				created_at: null,
				updated_at: null,
			}),
		);
		return [...config, ...(await selectWebhooks(this.sql)).map((r) => this.view(r))];
	}

	async get(id: string): Promise<AlertWebhookView> {
		const found = (await this.list()).find((w) => w.id === id);
		if (!found) throw notFound(id);
		return found;
	}

	async create(input: CreateAlertInput): Promise<AlertWebhookView> {
		const id = randomId("whk");
		const url = await this.checkUrl(input.url);
		const secret = input.secret ? this.box.encrypt(input.secret, webhookSecretContext(id)) : null;
		await this.sql`
			insert into alert_webhooks (id, url, events, format, secret)
			values (${id}, ${url}, ${input.events ? this.sql.array(input.events) : null}::text[], ${input.format ?? "json"}, ${secret})`;
		return this.get(id);
	}

	async update(id: string, patch: PatchAlertInput): Promise<AlertWebhookView> {
		this.refuseConfig(id);
		const sql = this.sql;
		const sets = [sql`updated_at = now()`];
		if (patch.url !== undefined) sets.push(sql`url = ${await this.checkUrl(patch.url)}`);
		if (patch.events !== undefined) sets.push(sql`events = ${patch.events ? sql.array(patch.events) : null}::text[]`);
		if (patch.format !== undefined) sets.push(sql`format = ${patch.format}`);
		if (patch.secret !== undefined)
			sets.push(sql`secret = ${patch.secret ? this.box.encrypt(patch.secret, webhookSecretContext(id)) : null}`);
		const r =
			await sql`update alert_webhooks set ${sets.reduce((a, c) => sql`${a}, ${c}`)} where id = ${id} returning id`;
		if (r.length === 0) throw notFound(id);
		return this.get(id);
	}

	async remove(id: string): Promise<{ id: string; object: "alert_webhook"; deleted: true }> {
		this.refuseConfig(id);
		const r = await this.sql`delete from alert_webhooks where id = ${id} returning id`;
		if (r.length === 0) throw notFound(id);
		return { id, object: "alert_webhook", deleted: true };
	}

	private refuseConfig(id: string): void {
		if (id.startsWith("config:")) {
			throw new GatewayError(
				"PLATFORM_CONFLICT",
				`Alert webhook '${id}' comes from the configuration file; change it there`,
				{
					param: "id",
				},
			);
		}
	}

	private async checkUrl(url: string): Promise<string> {
		try {
			return await validateUpstreamUrl(url, this.policy);
		} catch (e) {
			if (!(e instanceof GatewayError)) throw e;
			throw new GatewayError("PLATFORM_INVALID_REQUEST", e.message.replaceAll("base_url", "url"), { param: "url" });
		}
	}

	private view(r: WebhookRow): AlertWebhookView {
		let secret: string | null = null;
		if (r.secret) {
			try {
				secret = maskSecret(this.box.decrypt(r.secret, webhookSecretContext(r.id)));
			} catch {
				secret = "(cannot be opened with the current encryption key)";
			}
		}
		return {
			id: r.id,
			object: "alert_webhook",
			source: "admin",
			url: r.url,
			events: r.events,
			format: r.format,
			secret,
			created_at: iso(r.created_ms),
			updated_at: iso(r.updated_ms),
		};
	}
}

/** /admin/alerts: thin controller over AlertService. */
export function alertRoutes(service: AlertService, audit: AdminAuditLog) {
	const createBody = adminBody(CreateAlertBody);
	const patchBody = adminBody(PatchAlertBody);
	const before = (id: string) => () => service.get(id).catch(() => null);
	return new Elysia()
		.get("/alerts", async () => ({ object: "list", data: await service.list() }))
		.get("/alerts/:id", ({ params }) => service.get(params.id))
		.post("/alerts", async ({ request, set }) => {
			const body = await createBody(request);
			const created = await audit.audited(request, { action: "alert.create", type: "alert", id: (a) => a.id }, () =>
				service.create(body),
			);
			set.status = 201;
			return created;
		})
		.patch("/alerts/:id", async ({ params, request }) => {
			const body = await patchBody(request);
			return audit.audited(
				request,
				{ action: "alert.update", type: "alert", id: params.id, before: before(params.id) },
				() => service.update(params.id, body),
			);
		})
		.delete("/alerts/:id", ({ params, request }) =>
			audit.audited(request, { action: "alert.delete", type: "alert", id: params.id, before: before(params.id) }, () =>
				service.remove(params.id),
			),
		);
}
