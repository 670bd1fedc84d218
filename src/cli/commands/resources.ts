import type { KeyView } from "../../admin/keys.ts";
import type { PriceView } from "../../admin/prices.ts";
import type { AccountView, ProviderView } from "../../admin/provider-service.ts";
import type { TenantView } from "../../admin/tenants.ts";
import {
	LIMIT_FIELDS,
	type SettingKind,
	SUBJECT_SETTINGS,
	type Subject,
	subjectFields,
} from "../../config/limit-fields.ts";
import { usageError } from "../cli-error.ts";
import { type Ctx, type Flags, limitFlag } from "../context.ts";
import { type Column, details, table } from "../render.ts";

type FlagName = keyof Flags;
type Kind = "int" | "number" | "string" | "list";
/** flag → [body field, how to read it]. `none` sets a limit back to null (no limit). */
type FieldMap = Partial<Record<FlagName, [string, Kind]>>;

const READ_AS: Record<SettingKind, Kind> = {
	int32: "int",
	int53: "int",
	usd: "number",
	period: "string",
	log_bodies: "string",
};
/** The limit flags of a key or tenant, from the settings table. */
const limitFlags = (subject: Subject): FieldMap =>
	Object.fromEntries(
		LIMIT_FIELDS.filter((f) => subjectFields(subject).includes(f)).map((f) => [
			limitFlag(f),
			[f, READ_AS[SUBJECT_SETTINGS[f].kind]],
		]),
	);
const KEY_FIELDS: FieldMap = {
	...limitFlags("key"),
	name: ["name", "string"],
	tenant: ["tenant_id", "string"],
	models: ["models", "list"],
	"expires-at": ["expires_at", "string"],
};
const TENANT_FIELDS: FieldMap = { ...limitFlags("tenant"), name: ["name", "string"] };
const PROVIDER_FIELDS: FieldMap = {
	type: ["type", "string"],
	"base-url": ["base_url", "string"],
	models: ["models", "list"],
	strategy: ["strategy", "string"],
};
const ACCOUNT_FIELDS: FieldMap = {
	"api-key": ["api_key", "string"],
	"base-url": ["base_url", "string"],
	weight: ["weight", "int"],
	"max-concurrency": ["max_concurrency", "int"],
	models: ["models", "list"],
};
const PRICE_FIELDS: FieldMap = {
	input: ["input", "number"],
	output: ["output", "number"],
	"cached-input": ["cached_input", "number"],
	"cache-write": ["cache_write", "number"],
};

/** The request body the given flags describe; a malformed number is a usage error. */
export function bodyFrom(flags: Flags, fields: FieldMap): Record<string, unknown> {
	const body: Record<string, unknown> = {};
	for (const [flag, spec] of Object.entries(fields) as [FlagName, [string, Kind]][]) {
		const raw = flags[flag];
		if (typeof raw !== "string") continue;
		const [field, kind] = spec;
		if (raw === "none") body[field] = null;
		else if (kind === "list")
			body[field] = raw
				.split(",")
				.map((s) => s.trim())
				.filter(Boolean);
		else if (kind === "string") body[field] = raw;
		else {
			const n = Number(raw);
			if (raw.trim() === "" || !Number.isFinite(n) || (kind === "int" && !Number.isInteger(n))) {
				throw usageError(`--${flag} must be ${kind === "int" ? "a whole number" : "a number"} (or none), got '${raw}'`);
			}
			body[field] = n;
		}
	}
	return body;
}

interface List<T> {
	data: T[];
}

const KEY_COLUMNS: Column<KeyView>[] = [
	["id", (k) => k.id],
	["tenant", (k) => k.tenant_id],
	["name", (k) => k.name],
	["prefix", (k) => k.prefix],
	["rpm", (k) => k.rpm],
	["tpm", (k) => k.tpm],
	["budget_usd", (k) => (k.budget_usd === null ? null : `${k.budget_usd}/${k.budget_period}`)],
	["models", (k) => k.models],
	["expires", (k) => k.expires_at],
	["revoked", (k) => k.revoked_at],
];

const path = (...parts: string[]) => parts.map(encodeURIComponent).join("/");

export async function keys(ctx: Ctx): Promise<void> {
	const client = ctx.client();
	const sub = ctx.args[0] ?? "list";
	switch (sub) {
		case "list": {
			const list = await client.get<List<KeyView>>("/admin/keys", {
				tenant_id: ctx.flags.tenant,
				include_revoked: ctx.flags.all ? "true" : undefined,
			});
			return ctx.print(list, () => table(list.data, KEY_COLUMNS));
		}
		case "get": {
			const k = await client.get<KeyView>(`/admin/keys/${path(ctx.arg(1, "key id"))}`);
			return ctx.print(k, () => details({ ...k }));
		}
		case "create": {
			const body = bodyFrom(ctx.flags, KEY_FIELDS);
			if (!body.tenant_id) throw usageError("keys create needs --tenant");
			const k = await client.call<KeyView & { key: string }>("POST", "/admin/keys", body);
			return ctx.print(k, () =>
				[
					`key: ${k.key}`,
					"(shown once: store it now; the gateway keeps only its hash)",
					"",
					details(withoutKey(k)),
				].join("\n"),
			);
		}
		case "update": {
			const id = ctx.arg(1, "key id");
			const body = bodyFrom(ctx.flags, KEY_FIELDS);
			if ("tenant_id" in body) throw usageError("a key's tenant cannot change: create a new key");
			const k = await client.call<KeyView>("PATCH", `/admin/keys/${path(id)}`, body);
			return ctx.print(k, () => details({ ...k }));
		}
		case "revoke": {
			const k = await client.call<KeyView>("DELETE", `/admin/keys/${path(ctx.arg(1, "key id"))}`);
			return ctx.print(k, () => `revoked ${k.id} (${k.prefix}…) at ${k.revoked_at}`);
		}
		default:
			throw usageError(`unknown keys command '${sub}' (list, get, create, update, revoke)`);
	}
}

const withoutKey = ({ key: _, ...rest }: KeyView & { key: string }) => rest;

export async function tenants(ctx: Ctx): Promise<void> {
	const client = ctx.client();
	const sub = ctx.args[0] ?? "list";
	switch (sub) {
		case "list": {
			const list = await client.get<List<TenantView>>("/admin/tenants");
			return ctx.print(list, () =>
				table(list.data, [
					["id", (t) => t.id],
					["name", (t) => t.name],
					["keys", (t) => t.active_keys],
					["rpm", (t) => t.rpm],
					["tpm", (t) => t.tpm],
					["budget_usd", (t) => (t.budget_usd === null ? null : `${t.budget_usd}/${t.budget_period}`)],
				]),
			);
		}
		case "get":
			return show(ctx, await client.get(`/admin/tenants/${path(ctx.arg(1, "tenant id"))}`));
		case "create": {
			const body: Record<string, unknown> = { id: ctx.args[1], ...bodyFrom(ctx.flags, TENANT_FIELDS) };
			body.name ??= ctx.args[1];
			if (!body.name) throw usageError("tenants create needs an id or --name");
			return show(ctx, await client.call("POST", "/admin/tenants", body));
		}
		case "update":
			return show(
				ctx,
				await client.call(
					"PATCH",
					`/admin/tenants/${path(ctx.arg(1, "tenant id"))}`,
					bodyFrom(ctx.flags, TENANT_FIELDS),
				),
			);
		case "delete":
			return show(ctx, await client.call("DELETE", `/admin/tenants/${path(ctx.arg(1, "tenant id"))}`));
		default:
			throw usageError(`unknown tenants command '${sub}' (list, get, create, update, delete)`);
	}
}

const show = (ctx: Ctx, v: unknown) => ctx.print(v, () => details(v as Record<string, unknown>));

const ACCOUNT_COLUMNS: Column<AccountView & { provider?: string }>[] = [
	["provider", (a) => a.provider],
	["account", (a) => a.name],
	["enabled", (a) => a.enabled],
	["state", (a) => a.live?.state],
	["inflight", (a) => a.live?.inflight],
	["error_ratio", (a) => a.live?.error_ratio],
	["ttft_ms", (a) => (a.live?.ewma_ttft_ms == null ? null : Math.round(a.live.ewma_ttft_ms))],
	["api_key", (a) => a.api_key],
];

export const accountRows = (providers: ProviderView[]) =>
	providers.flatMap((p) => p.accounts.map((a) => ({ ...a, provider: p.name })));

export async function providers(ctx: Ctx): Promise<void> {
	const client = ctx.client();
	const sub = ctx.args[0] ?? "list";
	switch (sub) {
		case "list": {
			const list = await client.get<List<ProviderView>>("/admin/providers");
			return ctx.print(list, () =>
				table(list.data, [
					["name", (p) => p.name],
					["type", (p) => p.type],
					["source", (p) => p.source],
					["base_url", (p) => p.base_url],
					["models", (p) => p.models],
					["accounts", (p) => p.accounts.length],
				]),
			);
		}
		case "get": {
			const p = await client.get<ProviderView>(`/admin/providers/${path(ctx.arg(1, "provider name"))}`);
			return ctx.print(
				p,
				() => `${details({ ...p, accounts: undefined })}\n\n${table(accountRows([p]), ACCOUNT_COLUMNS)}`,
			);
		}
		case "create":
			return show(
				ctx,
				await client.call("POST", "/admin/providers", {
					name: ctx.arg(1, "provider name"),
					models: [],
					...bodyFrom(ctx.flags, PROVIDER_FIELDS),
				}),
			);
		case "update":
			return show(
				ctx,
				await client.call(
					"PATCH",
					`/admin/providers/${path(ctx.arg(1, "provider name"))}`,
					bodyFrom(ctx.flags, PROVIDER_FIELDS),
				),
			);
		case "delete":
			return show(ctx, await client.call("DELETE", `/admin/providers/${path(ctx.arg(1, "provider name"))}`));
		default:
			throw usageError(`unknown providers command '${sub}' (list, get, create, update, delete)`);
	}
}

export async function accounts(ctx: Ctx): Promise<void> {
	const client = ctx.client();
	const sub = ctx.args[0] ?? "list";
	if (sub === "list") {
		const only = ctx.args[1];
		const list = await client.get<List<ProviderView>>("/admin/providers");
		const rows = accountRows(list.data.filter((p) => !only || p.name === only));
		return ctx.print({ object: "list", data: rows }, () => table(rows, ACCOUNT_COLUMNS));
	}
	const provider = ctx.arg(1, "provider name");
	const base = `/admin/providers/${path(provider)}/accounts`;
	switch (sub) {
		case "add":
			return show(
				ctx,
				await client.call("POST", base, { name: ctx.arg(2, "account name"), ...bodyFrom(ctx.flags, ACCOUNT_FIELDS) }),
			);
		case "update":
			return show(
				ctx,
				await client.call("PATCH", `${base}/${path(ctx.arg(2, "account name"))}`, bodyFrom(ctx.flags, ACCOUNT_FIELDS)),
			);
		case "enable":
			return show(ctx, await client.call("POST", `${base}/${path(ctx.arg(2, "account name"))}/enable`));
		case "disable":
			return show(ctx, await client.call("PATCH", `${base}/${path(ctx.arg(2, "account name"))}`, { enabled: false }));
		case "delete":
			return show(ctx, await client.call("DELETE", `${base}/${path(ctx.arg(2, "account name"))}`));
		default:
			throw usageError(`unknown accounts command '${sub}' (list, add, update, enable, disable, delete)`);
	}
}

export async function prices(ctx: Ctx): Promise<void> {
	const client = ctx.client();
	const sub = ctx.args[0] ?? "list";
	switch (sub) {
		case "list": {
			const list = await client.get<List<PriceView>>("/admin/prices");
			return ctx.print(list, () =>
				table(list.data, [
					["model", (p) => p.model],
					["input", (p) => p.input],
					["output", (p) => p.output],
					["cached_input", (p) => p.cached_input],
					["cache_write", (p) => p.cache_write],
					["source", (p) => p.source],
				]),
			);
		}
		case "set":
			return show(
				ctx,
				await client.call("PUT", `/admin/prices/${path(ctx.arg(1, "model"))}`, bodyFrom(ctx.flags, PRICE_FIELDS)),
			);
		case "delete":
			return show(ctx, await client.call("DELETE", `/admin/prices/${path(ctx.arg(1, "model"))}`));
		default:
			throw usageError(`unknown prices command '${sub}' (list, set, delete)`);
	}
}
