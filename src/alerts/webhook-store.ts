import type { Sql } from "postgres";
import type { AlertEvent, AlertFormat, AlertWebhookConfig } from "../config/alerts-config.ts";
import type { SecretBox } from "../crypto/secret-box.ts";
import type { WebhookTarget } from "./webhook-dispatcher.ts";

/** An alert_webhooks row as stored (secret sealed). */
export interface WebhookRow {
	id: string;
	url: string;
	events: string[] | null;
	format: string;
	secret: string | null;
	created_ms: number;
	updated_ms: number;
}

/** The AAD a webhook's sealed secret is bound to: a ciphertext copied to another row will not open. */
export const webhookSecretContext = (id: string) => `alert_webhook:${id}`;

export async function selectWebhooks(sql: Sql, id?: string): Promise<WebhookRow[]> {
	return sql<WebhookRow[]>`
		select id, url, events, format, secret,
			(extract(epoch from created_at) * 1000)::float8 as created_ms,
			(extract(epoch from updated_at) * 1000)::float8 as updated_ms
		from alert_webhooks ${id === undefined ? sql`` : sql`where id = ${id}`}
		order by created_at, id`;
}

/** The TOML file's webhooks, as targets (`config:<n>`, in file order). */
export function configTargets(webhooks: readonly AlertWebhookConfig[]): WebhookTarget[] {
	return webhooks.map((w, i) => ({
		id: `config:${i}`,
		url: w.url,
		events: w.events,
		format: w.format,
		secret: w.secret ?? null,
	}));
}

/** Every webhook the admin API stored, secrets opened; a secret that will not open leaves its webhook out. */
export async function storedTargets(sql: Sql, box: SecretBox, onBad: (id: string) => void): Promise<WebhookTarget[]> {
	const out: WebhookTarget[] = [];
	for (const r of await selectWebhooks(sql)) {
		let secret: string | null = null;
		if (r.secret) {
			try {
				secret = box.decrypt(r.secret, webhookSecretContext(r.id));
			} catch {
				onBad(r.id);
				continue;
			}
		}
		out.push({
			id: r.id,
			url: r.url,
			events: r.events as AlertEvent[] | null,
			format: r.format as AlertFormat,
			secret,
		});
	}
	return out;
}
