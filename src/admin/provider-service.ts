import type { Sql } from "postgres";
import { PRESET_NAMES, PROVIDER_PRESETS } from "../config/presets.ts";
import type { ChangeBus } from "../control/change-bus.ts";
import { maskSecret, type SecretBox } from "../crypto/secret-box.ts";
import { GatewayError } from "../errors/gateway-error.ts";
import {
	type AccountDbRow,
	accountSecretContext,
	openHeaders,
	type ProviderCatalog,
	type ProviderDbRow,
	sealHeaders,
} from "../providers/provider-catalog.ts";
import type { ProviderRuntime } from "../providers/provider-registry.ts";
import type { AccountHealth } from "../routing/account-health.ts";
import { type AccountLiveState, AccountPool } from "../routing/account-pool.ts";
import type { ModelLanes } from "../routing/model-lanes.ts";
import { randomId } from "./keys.ts";
import type {
	CreateAccountInput,
	CreateProviderInput,
	PatchAccountInput,
	PatchProviderInput,
} from "./provider-schemas.ts";
import { badUrl, type UpstreamUrlPolicy, validateUpstreamUrl } from "./url-safety.ts";

export interface AccountView {
	id: string | null;
	name: string;
	/** Masked: `sk-…abcd`. */
	api_key: string;
	base_url: string | null;
	weight: number;
	max_concurrency: number | null;
	models: string[] | null;
	enabled: boolean;
	/** Live routing state shared by all workers; null when the account is not in service. */
	live: Omit<AccountLiveState, "provider" | "name"> | null;
}

export interface ProviderView {
	name: string;
	object: "provider";
	source: "config" | "database";
	type: string;
	base_url: string;
	models: string[];
	strategy: string | null;
	/** Header names with masked values (they may hold credentials). */
	headers: Record<string, string>;
	accounts: AccountView[];
}

type AccountRow = AccountDbRow;

export interface ProviderServiceDeps {
	sql: Sql;
	box: SecretBox;
	catalog: ProviderCatalog;
	health: AccountHealth;
	lanes: ModelLanes;
	bus: ChangeBus | null;
	policy: UpstreamUrlPolicy;
}

const CANNOT_DECRYPT = "(cannot decrypt: wrong GATEWAY_ENCRYPTION_KEY?)";
const notFound = (what: string) => new GatewayError("PLATFORM_NOT_FOUND", what);
const maskHeaders = (h: Record<string, string> | null) =>
	Object.fromEntries(Object.entries(h ?? {}).map(([k, v]) => [k, maskSecret(v)]));

/** Providers and accounts created at runtime; account keys sealed with the SecretBox. */
export class ProviderService {
	constructor(private readonly d: ProviderServiceDeps) {}

	async list(): Promise<ProviderView[]> {
		const set = this.d.catalog.current();
		const out: ProviderView[] = [];
		for (const p of set.providers.values()) {
			if (this.d.catalog.configNames.has(p.name)) out.push(this.configView(p));
		}
		const rows = await this.d.sql<ProviderDbRow[]>`select * from providers order by created_at, name`;
		for (const r of rows) if (!this.d.catalog.configNames.has(r.name)) out.push(await this.dbView(r));
		return out;
	}

	async get(name: string): Promise<ProviderView> {
		if (this.d.catalog.configNames.has(name)) {
			const p = this.d.catalog.current().providers.get(name);
			if (p) return this.configView(p);
		}
		return this.dbView(await this.row(name));
	}

	async create(input: CreateProviderInput): Promise<ProviderView> {
		if (this.d.catalog.configNames.has(input.name)) {
			throw new GatewayError("PLATFORM_CONFLICT", `Provider '${input.name}' is defined in the config file`, {
				param: "name",
			});
		}
		const type = input.type ?? "openai";
		const preset = PROVIDER_PRESETS[type];
		if (!preset) {
			throw new GatewayError(
				"PLATFORM_INVALID_REQUEST",
				`Unknown provider type '${type}' (one of ${PRESET_NAMES.join(", ")})`,
				{
					param: "type",
				},
			);
		}
		const rawUrl = input.base_url ?? preset.baseUrl;
		if (!rawUrl) throw badUrl("base_url is required for this provider type");
		const baseUrl = await validateUpstreamUrl(rawUrl, this.d.policy);
		const accounts = input.accounts ?? [];
		const accountUrls = await Promise.all(
			accounts.map((a) => (a.base_url ? validateUpstreamUrl(a.base_url, this.d.policy) : null)),
		);
		const sql = this.d.sql;
		const r = await sql`
			insert into providers (name, type, base_url, models, strategy, headers)
			values (${input.name}, ${type}, ${baseUrl}, ${sql.array(input.models)}::text[], ${input.strategy ?? null},
				${input.headers ? JSON.stringify(sealHeaders(this.d.box, input.name, input.headers)) : null}::jsonb)
			on conflict (name) do nothing returning name`;
		if (r.length === 0) {
			throw new GatewayError("PLATFORM_CONFLICT", `Provider '${input.name}' already exists`, { param: "name" });
		}
		try {
			for (const [i, a] of accounts.entries()) await this.insertAccount(input.name, a, accountUrls[i]);
		} catch (err) {
			// No transaction (the embedded server shares one session between sockets): compensate.
			await sql`delete from providers where name = ${input.name}`.catch(() => {});
			throw err;
		}
		await this.changed();
		return this.get(input.name);
	}

	async update(name: string, patch: PatchProviderInput): Promise<ProviderView> {
		this.refuseConfig(name);
		const current = await this.row(name);
		const sql = this.d.sql;
		const type = patch.type ?? current.type;
		if (!PROVIDER_PRESETS[type]) {
			throw new GatewayError("PLATFORM_INVALID_REQUEST", `Unknown provider type '${type}'`, { param: "type" });
		}
		const baseUrl = patch.base_url ? await validateUpstreamUrl(patch.base_url, this.d.policy) : current.base_url;
		const headers =
			patch.headers === undefined ? current.headers : patch.headers && sealHeaders(this.d.box, name, patch.headers);
		await sql`
			update providers set type = ${type}, base_url = ${baseUrl},
				models = ${sql.array(patch.models ?? current.models)}::text[],
				strategy = ${patch.strategy === undefined ? current.strategy : patch.strategy},
				headers = ${headers ? JSON.stringify(headers) : null}::jsonb, updated_at = now()
			where name = ${name}`;
		await this.changed();
		return this.get(name);
	}

	async remove(name: string): Promise<{ name: string; object: "provider"; deleted: true }> {
		this.refuseConfig(name);
		const r = await this.d.sql`delete from providers where name = ${name} returning name`;
		if (r.length === 0) throw notFound(`No provider named '${name}'`);
		await this.changed();
		return { name, object: "provider", deleted: true };
	}

	async listAccounts(provider: string): Promise<AccountView[]> {
		return (await this.get(provider)).accounts;
	}

	async addAccount(provider: string, input: CreateAccountInput): Promise<AccountView> {
		this.refuseConfig(provider);
		await this.row(provider);
		const url = input.base_url ? await validateUpstreamUrl(input.base_url, this.d.policy) : null;
		await this.insertAccount(provider, input, url);
		await this.changed();
		return this.account(provider, input.name);
	}

	async updateAccount(provider: string, name: string, patch: PatchAccountInput): Promise<AccountView> {
		this.refuseConfig(provider);
		const a = await this.accountRow(provider, name);
		const sql = this.d.sql;
		const url =
			patch.base_url === undefined
				? a.base_url
				: patch.base_url === null
					? null
					: await validateUpstreamUrl(patch.base_url, this.d.policy);
		const enc = patch.api_key ? this.d.box.encrypt(patch.api_key, accountSecretContext(a.id)) : a.api_key_enc;
		const models = patch.models === undefined ? a.models : patch.models;
		await sql`
			update provider_accounts set api_key_enc = ${enc}, base_url = ${url},
				weight = ${patch.weight ?? a.weight}::int,
				max_concurrency = ${patch.max_concurrency === undefined ? a.max_concurrency : patch.max_concurrency}::int,
				models = ${models ? sql.array(models) : null}::text[],
				enabled = ${patch.enabled ?? a.enabled}, updated_at = now()
			where id = ${a.id}`;
		await this.changed();
		return this.account(provider, name);
	}

	async removeAccount(
		provider: string,
		name: string,
	): Promise<{ name: string; object: "provider_account"; deleted: true }> {
		this.refuseConfig(provider);
		const a = await this.accountRow(provider, name);
		await this.d.sql`delete from provider_accounts where id = ${a.id}`;
		await this.changed();
		return { name, object: "provider_account", deleted: true };
	}

	/** Reload here first (the answer reflects the change), then on every other worker. */
	private async changed(): Promise<void> {
		if (this.d.bus) await this.d.bus.publish({ kind: "providers" });
		else await this.d.catalog.reload();
	}

	private async insertAccount(provider: string, a: CreateAccountInput, baseUrl: string | null): Promise<void> {
		const id = randomId("acct");
		const sql = this.d.sql;
		const r = await sql`
			insert into provider_accounts (id, provider, name, api_key_enc, base_url, weight, max_concurrency, models, enabled)
			values (${id}, ${provider}, ${a.name}, ${this.d.box.encrypt(a.api_key, accountSecretContext(id))}, ${baseUrl},
				${a.weight ?? 1}::int, ${a.max_concurrency ?? null}::int, ${a.models ? sql.array(a.models) : null}::text[],
				${a.enabled ?? true})
			on conflict (provider, name) do nothing returning id`;
		if (r.length === 0) {
			throw new GatewayError("PLATFORM_CONFLICT", `Provider '${provider}' already has an account '${a.name}'`, {
				param: "name",
			});
		}
	}

	private refuseConfig(name: string): void {
		if (this.d.catalog.configNames.has(name)) {
			throw new GatewayError(
				"PLATFORM_CONFLICT",
				`Provider '${name}' is defined in the config file; edit the file instead`,
				{
					param: "name",
				},
			);
		}
	}

	private async row(name: string): Promise<ProviderDbRow> {
		const rows = await this.d.sql<ProviderDbRow[]>`select * from providers where name = ${name}`;
		if (!rows[0]) throw notFound(`No provider named '${name}'`);
		return rows[0];
	}

	private async accountRow(provider: string, name: string): Promise<AccountRow> {
		const rows = await this.d.sql<AccountRow[]>`
			select * from provider_accounts where provider = ${provider} and name = ${name}`;
		if (!rows[0]) throw notFound(`Provider '${provider}' has no account named '${name}'`);
		return rows[0];
	}

	private async account(provider: string, name: string): Promise<AccountView> {
		const view = (await this.get(provider)).accounts.find((a) => a.name === name);
		if (!view) throw notFound(`Provider '${provider}' has no account named '${name}'`);
		return view;
	}

	private liveStates(p: ProviderRuntime | undefined): Map<string, AccountLiveState> {
		if (!p) return new Map();
		const pool = new AccountPool(p.accounts, this.d.health.table, {
			strategy: p.strategy,
			health: this.d.health,
			lanes: this.d.lanes,
		});
		return new Map(pool.snapshot().map((s) => [s.name, s]));
	}

	private configView(p: ProviderRuntime): ProviderView {
		const live = this.liveStates(p);
		return {
			name: p.name,
			object: "provider",
			source: "config",
			type: p.type,
			base_url: p.baseUrl,
			models: [...p.models],
			strategy: p.strategy,
			headers: maskHeaders(p.headers),
			accounts: p.accounts.map((a) => ({
				id: null,
				name: a.name,
				api_key: maskSecret(a.apiKey),
				base_url: a.baseUrl,
				weight: a.weight,
				max_concurrency: a.maxConcurrency || null,
				models: a.models ? [...a.models] : null,
				enabled: true,
				live: liveOf(live.get(a.name)),
			})),
		};
	}

	private maskedHeaders(r: ProviderDbRow): Record<string, string> {
		try {
			return maskHeaders(openHeaders(this.d.box, r.name, r.headers));
		} catch {
			return Object.fromEntries(Object.keys(r.headers ?? {}).map((k) => [k, CANNOT_DECRYPT]));
		}
	}

	private async dbView(r: ProviderDbRow): Promise<ProviderView> {
		const accounts = await this.d.sql<AccountRow[]>`
			select * from provider_accounts where provider = ${r.name} order by created_at, name`;
		const live = this.liveStates(this.d.catalog.current().providers.get(r.name));
		return {
			name: r.name,
			object: "provider",
			source: "database",
			type: r.type,
			base_url: r.base_url,
			models: r.models,
			strategy: r.strategy,
			headers: this.maskedHeaders(r),
			accounts: accounts.map((a) => {
				let masked: string;
				try {
					masked = maskSecret(this.d.box.decrypt(a.api_key_enc, accountSecretContext(a.id)));
				} catch {
					masked = CANNOT_DECRYPT;
				}
				return {
					id: a.id,
					name: a.name,
					api_key: masked,
					base_url: a.base_url,
					weight: a.weight,
					max_concurrency: a.max_concurrency,
					models: a.models,
					enabled: a.enabled,
					live: liveOf(live.get(a.name)),
				};
			}),
		};
	}
}

function liveOf(s: AccountLiveState | undefined): AccountView["live"] {
	if (!s) return null;
	const { provider: _p, name: _n, ...rest } = s;
	return rest;
}
