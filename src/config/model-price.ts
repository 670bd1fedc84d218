import { type Static, Type as t } from "@sinclair/typebox";

const Usd = t.Number({ minimum: 0, maximum: 1_000_000 });

/**
 * The one price shape, in USD per million tokens: `[[prices]]` in the config file, the admin
 * API's body and views, model_prices rows and the shipped catalog all use it. An absent or
 * null cached-input or cache-write price bills those tokens at the input price.
 */
export const ModelPriceSchema = t.Object(
	{
		input: Usd,
		output: Usd,
		cached_input: t.Optional(t.Union([Usd, t.Null()])),
		cache_write: t.Optional(t.Union([Usd, t.Null()])),
	},
	{ additionalProperties: false },
);
export type ModelPrice = Static<typeof ModelPriceSchema>;

/** A price for one model (`[[prices]]`, a model_prices row). */
export type PriceConfig = ModelPrice & { model: string };
