import { type Static, t } from "elysia";
import { ROUTING_STRATEGIES } from "../config/types.ts";
import { settingSchema } from "./setting-schemas.ts";

/** Request bodies of /admin/providers and /admin/providers/:name/accounts. */
const Name = t.String({
	minLength: 1,
	maxLength: 64,
	pattern: "^[a-zA-Z0-9_.-]+$",
});
/** A provider's models; an empty list = any model, asked for as `provider/model`. */
const Models = t.Array(t.String({ minLength: 1, maxLength: 200 }), {
	maxItems: 1000,
});
/** The subset an account serves; null = all of its provider's. Empty would serve nothing: refused. */
const AccountModels = t.Union(
	[t.Array(t.String({ minLength: 1, maxLength: 200 }), { minItems: 1, maxItems: 1000 }), t.Null()],
	{ description: "a list of 1 to 1000 model names, or null for all of the provider's models" },
);
const Strategy = t.Union(ROUTING_STRATEGIES.map((s) => t.Literal(s)));
/** Extra upstream headers (sealed at rest: they often carry credentials). */
const Headers = t.Record(t.String({ pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$" }), t.String({ maxLength: 8192 }), {
	maxProperties: 64,
	additionalProperties: false,
	description:
		"an object of at most 64 header names (letters, digits, '-') to string values of at most 8192 characters",
});

const AccountFields = {
	api_key: t.String({ minLength: 1, maxLength: 4096 }),
	base_url: t.Optional(t.Union([t.String({ minLength: 1 }), t.Null()])),
	weight: t.Optional(t.Integer({ minimum: 0, maximum: 1_000_000 })),
	/** An account's own cap, stored like a key's. */
	max_concurrency: settingSchema.int32,
	models: t.Optional(AccountModels),
	enabled: t.Optional(t.Boolean()),
};
export const CreateAccountBody = t.Object({ name: Name, ...AccountFields }, { additionalProperties: false });
export const PatchAccountBody = t.Object(
	{ ...AccountFields, api_key: t.Optional(AccountFields.api_key) },
	{ additionalProperties: false },
);
export const CreateProviderBody = t.Object(
	{
		name: Name,
		type: t.Optional(t.String({ minLength: 1 })),
		base_url: t.Optional(t.String({ minLength: 1 })),
		models: Models,
		strategy: t.Optional(Strategy),
		headers: t.Optional(Headers),
		accounts: t.Optional(t.Array(CreateAccountBody, { maxItems: 100 })),
	},
	{ additionalProperties: false },
);
export const PatchProviderBody = t.Object(
	{
		type: t.Optional(t.String({ minLength: 1 })),
		base_url: t.Optional(t.String({ minLength: 1 })),
		models: t.Optional(Models),
		strategy: t.Optional(t.Union([Strategy, t.Null()])),
		headers: t.Optional(t.Union([Headers, t.Null()])),
	},
	{ additionalProperties: false },
);
export type CreateAccountInput = Static<typeof CreateAccountBody>;
export type PatchAccountInput = Static<typeof PatchAccountBody>;
export type CreateProviderInput = Static<typeof CreateProviderBody>;
export type PatchProviderInput = Static<typeof PatchProviderBody>;
