import { createHash } from "node:crypto";
import type { Sql } from "postgres";
import { MODEL_GROUP_STRATEGIES, type ModelGroupConfig, type ModelGroupStrategy } from "../config/model-group.ts";
import type { GatewayConfig, ProviderConfig } from "../config/types.ts";
import { ROUTING_STRATEGIES, type RoutingStrategy } from "../config/types.ts";
import { isSealedSecret, parseEncryptionKey, SecretBox } from "../crypto/secret-box.ts";
import type { Logger } from "../logging/logger.ts";
import type { AccountRef } from "./account-ref.ts";
import { buildProviderSet, type ProviderSet, type SlotOf } from "./provider-registry.ts";
import type { UpstreamTargetGuard } from "./upstream-target-guard.ts";

const accountKey = (provider: string, account: string): string => `${provider}/${account}`;

/**
 * The box that seals provider account keys at rest. In dev without GATEWAY_ENCRYPTION_KEY a
 * fixed, publicly known key is used (so a dev database still never holds plaintext, and stays
 * readable across restarts); callers log a loud warning. Production refuses to start without a
 * key (config validation).
 */
export function secretBoxFor(config: GatewayConfig): {
	box: SecretBox;
	devKey: boolean;
} {
	const key = config.auth.encryption_key;
	if (key && key.trim() !== "") return { box: new SecretBox(parseEncryptionKey(key)), devKey: false };
	return {
		box: new SecretBox(createHash("sha256").update("interchange-dev-only-encryption-key").digest()),
		devKey: true,
	};
}

/** The AAD a sealed account key is bound to: a ciphertext copied to another row will not open. */
export const accountSecretContext = (accountId: string) => `provider_account:${accountId}`;

/** The AAD a sealed provider header value is bound to (its provider and header name). */
const headerSecretContext = (provider: string, header: string) => `provider_header:${provider}:${header.toLowerCase()}`;

/** Provider headers as stored: each value sealed, since they often carry credentials. */
export function sealHeaders(box: SecretBox, provider: string, headers: Record<string, string>): Record<string, string> {
	return Object.fromEntries(
		Object.entries(headers).map(([k, v]) => [k, box.encrypt(v, headerSecretContext(provider, k))]),
	);
}

/**
 * Stored provider headers in plaintext. Values written before headers were sealed are read as
 * they are (the next admin change seals them). Throws SecretBoxError under the wrong key.
 */
export function openHeaders(
	box: SecretBox,
	provider: string,
	stored: Record<string, string> | null,
): Record<string, string> {
	return Object.fromEntries(
		Object.entries(stored ?? {}).map(([k, v]) => [
			k,
			isSealedSecret(v) ? box.decrypt(v, headerSecretContext(provider, k)) : v,
		]),
	);
}

/** A providers row as the raw queries select it (snake_case, as stored). */
export interface ProviderDbRow {
	name: string;
	type: string;
	base_url: string;
	models: string[];
	strategy: string | null;
	headers: Record<string, string> | null;
	updated_at: Date;
}

/** A model_groups row as the raw queries select it (snake_case, as stored). */
export interface ModelGroupDbRow {
	name: string;
	targets: string[];
	strategy: string;
	weights: number[] | null;
	updated_at: Date;
}

/** A stored group as configured; a strategy this version does not know reads as `ordered`. */
export function groupOfRow(r: ModelGroupDbRow): ModelGroupConfig {
	const strategy = (MODEL_GROUP_STRATEGIES as readonly string[]).includes(r.strategy)
		? (r.strategy as ModelGroupStrategy)
		: "ordered";
	return { name: r.name, targets: r.targets, strategy, weights: strategy === "weighted" ? r.weights : null };
}

/** A provider_accounts row as the raw queries select it (snake_case, as stored). */
export interface AccountDbRow {
	id: string;
	provider: string;
	name: string;
	api_key_enc: string;
	base_url: string | null;
	weight: number;
	max_concurrency: number | null;
	models: string[] | null;
	enabled: boolean;
	updated_at: Date;
}

export interface ProviderCatalogOptions {
	config: GatewayConfig;
	slotOf: SlotOf;
	sql: Sql | null;
	box: SecretBox;
	logger?: Logger;
	/**
	 * Called after a reload for each database account that is new or whose row changed (key,
	 * settings, `enabled`, or deleted and re-added under its name), so an account an upstream
	 * 401/403 disabled gets another chance. Not called on the first load.
	 */
	onAccountChanged?: (account: AccountRef) => void;
	/** Production: the connect-time check for providers created through the admin API. */
	targetGuard?: UpstreamTargetGuard;
}

/**
 * The current ProviderSet: the config file's providers merged with those created through the
 * admin API (DB accounts decrypted at load), with the model groups of both. Each reload builds a new set of new objects, so
 * the account selector's per-provider pools (keyed by object) start fresh, while account slots
 * come from the shared table and keep their live state. On a name clash (provider or group) the
 * config file wins.
 */
export class ProviderCatalog {
	private set: ProviderSet;
	private readonly config: GatewayConfig;
	private readonly slotOf: SlotOf;
	private readonly sql: Sql | null;
	private readonly box: SecretBox;
	private readonly logger: Logger | undefined;
	private readonly targetGuard: UpstreamTargetGuard | undefined;
	private loads = 0;
	private applied = 0;
	/** accountKey → row id and update time, as of the last applied load; null before the first. */
	private revisions: Map<string, string> | null = null;
	private readonly onAccountChanged: ((account: AccountRef) => void) | undefined;
	readonly configNames: ReadonlySet<string>;
	/** Model groups defined in the config file (read-only through the admin API). */
	readonly configGroups: ReadonlySet<string>;

	constructor(opts: ProviderCatalogOptions) {
		this.config = opts.config;
		this.slotOf = opts.slotOf;
		this.sql = opts.sql;
		this.box = opts.box;
		this.logger = opts.logger;
		this.onAccountChanged = opts.onAccountChanged;
		this.targetGuard = opts.targetGuard;
		this.configNames = new Set(opts.config.providers.map((p) => p.name));
		this.configGroups = new Set(opts.config.model_groups.map((g) => g.name));
		this.set = this.build([], []);
	}

	current(): ProviderSet {
		return this.set;
	}

	/** Re-reads the DB providers; a slower, older load never replaces a newer one. */
	async reload(): Promise<void> {
		if (!this.sql) return;
		const seq = ++this.loads;
		const { providers, revisions, groups } = await this.loadDb(this.sql);
		if (seq < this.applied) return;
		this.applied = seq;
		this.set = this.build(providers, groups);
		const before = this.revisions;
		this.revisions = revisions;
		if (before === null || !this.onAccountChanged) return;
		for (const p of this.set.providers.values()) {
			for (const a of p.accounts) {
				const key = accountKey(p.name, a.name);
				const revision = revisions.get(key);
				if (revision !== undefined && before.get(key) !== revision) this.onAccountChanged(a);
			}
		}
	}

	private build(fromDb: ProviderConfig[], groupsFromDb: ModelGroupConfig[]): ProviderSet {
		const all = [...this.config.providers];
		for (const p of fromDb) {
			if (this.configNames.has(p.name)) {
				this.logger?.warn(
					{ provider: p.name },
					"database provider shadowed by the config file's provider of that name",
				);
				continue;
			}
			all.push(p);
		}
		const groups = [...this.config.model_groups];
		for (const g of groupsFromDb) {
			if (this.configGroups.has(g.name)) {
				this.logger?.warn({ group: g.name }, "database model group shadowed by the config file's group of that name");
			} else groups.push(g);
		}
		const set = buildProviderSet(all, this.config.routing, this.slotOf, groups);
		// the config file is the operator's own word; admin-created targets are checked at connect time
		if (this.targetGuard) {
			for (const p of set.providers.values()) if (!this.configNames.has(p.name)) p.targetGuard = this.targetGuard;
		}
		return set;
	}

	private headersOf(p: ProviderDbRow): Record<string, string> {
		try {
			return openHeaders(this.box, p.name, p.headers);
		} catch (err) {
			this.logger?.error(
				{ provider: p.name, err: (err as Error).message },
				"cannot decrypt provider headers (wrong GATEWAY_ENCRYPTION_KEY?): headers left out",
			);
			return {};
		}
	}

	private async loadDb(
		sql: Sql,
	): Promise<{ providers: ProviderConfig[]; revisions: Map<string, string>; groups: ModelGroupConfig[] }> {
		const providers = await sql<ProviderDbRow[]>`
			select name, type, base_url, models, strategy, headers, updated_at from providers order by created_at, name`;
		const accounts = await sql<AccountDbRow[]>`
			select id, provider, name, api_key_enc, base_url, weight, max_concurrency, models, enabled, updated_at
			from provider_accounts where enabled order by created_at, name`;
		const groupRows = await sql<ModelGroupDbRow[]>`
			select name, targets, strategy, weights, updated_at from model_groups order by created_at, name`;
		// a change to the account's row or to its provider's (base URL, headers) is a new revision
		const providerTimes = new Map(providers.map((p) => [p.name, new Date(p.updated_at).getTime()]));
		const revisions = new Map(
			accounts.map((a) => [
				accountKey(a.provider, a.name),
				`${a.id}@${new Date(a.updated_at).getTime()}/${providerTimes.get(a.provider)}`,
			]),
		);
		const byProvider = new Map<string, AccountDbRow[]>();
		for (const a of accounts) {
			const list = byProvider.get(a.provider);
			if (list) list.push(a);
			else byProvider.set(a.provider, [a]);
		}
		const configs = providers.map((p) => ({
			name: p.name,
			headers: this.headersOf(p),
			type: p.type,
			base_url: p.base_url.replace(/\/+$/, ""),
			models: p.models ?? [],
			strategy: (ROUTING_STRATEGIES as readonly string[]).includes(p.strategy ?? "")
				? (p.strategy as RoutingStrategy)
				: undefined,
			accounts: (byProvider.get(p.name) ?? []).flatMap((a) => {
				let apiKey: string;
				try {
					apiKey = this.box.decrypt(a.api_key_enc, accountSecretContext(a.id));
				} catch (err) {
					this.logger?.error(
						{ provider: p.name, account: a.name, err: (err as Error).message },
						"cannot decrypt provider account key (wrong GATEWAY_ENCRYPTION_KEY?): account left out",
					);
					return [];
				}
				return [
					{
						name: a.name,
						api_key: apiKey,
						base_url: a.base_url ?? undefined,
						weight: a.weight,
						max_concurrency: a.max_concurrency ?? 0,
						models: a.models ?? undefined,
					},
				];
			}),
		}));
		return { providers: configs, revisions, groups: groupRows.map(groupOfRow) };
	}
}
