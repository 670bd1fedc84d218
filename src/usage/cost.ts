import type { Sql } from "postgres";
import type { ModelPrice, PriceConfig } from "../config/model-price.ts";
import catalogFile from "./price-catalog.json" with { type: "json" };
import type { TokenUsage } from "./token-usage.ts";

/** model_prices rows in the one price shape; callers may append an `order by`. */
export const selectPrices = (sql: Sql) =>
	sql<PriceConfig[]>`select model, input_per_mtok as input, output_per_mtok as output,
		cached_input_per_mtok as cached_input, cache_write_per_mtok as cache_write
	  from model_prices`;

/** A shipped catalog entry (src/usage/price-catalog.json, written by `bun run prices:update`). */
type CatalogEntry = ModelPrice & { provider: string; max_output_tokens: number | null };

const CATALOG: ReadonlyMap<string, CatalogEntry> = new Map(
	Object.entries((catalogFile as { models: Record<string, CatalogEntry> }).models),
);

/** The shipped catalog's prices, by model (what applies when neither the config nor the database names one). */
export function catalogPrices(): PriceConfig[] {
	return [...CATALOG].map(([model, e]) => ({
		model,
		input: e.input,
		output: e.output,
		cached_input: e.cached_input ?? null,
		cache_write: e.cache_write ?? null,
	}));
}

const PER_TOKEN = 1 / 1_000_000;

/**
 * Prices, highest precedence first: model_prices rows (the admin API edits those), the config
 * file's `[[prices]]`, then the shipped catalog. Looked up by the exact model, then by the
 * bare model of `provider/model`.
 */
export class PriceBook {
	private readonly fromConfig = new Map<string, ModelPrice>();
	private fromDb = new Map<string, ModelPrice>();

	constructor(prices: readonly PriceConfig[] = []) {
		for (const { model, ...price } of prices) this.fromConfig.set(model, price);
	}

	/** Replaces the database overrides with the current model_prices rows. */
	async reload(sql: Sql): Promise<void> {
		const rows = await selectPrices(sql);
		const next = new Map<string, ModelPrice>();
		for (const { model, ...price } of rows) next.set(model, price);
		this.fromDb = next;
	}

	/** Sets one override in memory (e.g. after a PUT /admin/prices/:model). */
	set(model: string, price: ModelPrice): void {
		this.fromDb.set(model, price);
	}

	lookup(model: string): ModelPrice | null {
		return this.find(model, (m) => this.fromDb.get(m) ?? this.fromConfig.get(m) ?? CATALOG.get(m));
	}

	/** The model's largest answer, from the catalog; null when the catalog does not know it. */
	maxOutputTokens(model: string): number | null {
		return this.find(model, (m) => CATALOG.get(m))?.max_output_tokens ?? null;
	}

	/** Null when the model has no price: the row marks its cost unknown (its tokens are kept). */
	costUsd(model: string, usage: TokenUsage): number | null {
		const p = this.lookup(model);
		if (!p) return null;
		const cached = Math.max(0, usage.cached_tokens);
		const cacheWrite = Math.max(0, usage.cache_write_tokens);
		// cached and cache-write tokens are subsets of prompt_tokens: bill the rest at input.
		const plainInput = Math.max(0, usage.prompt_tokens - cached - cacheWrite);
		const usd =
			plainInput * p.input +
			cached * (p.cached_input ?? p.input) +
			cacheWrite * (p.cache_write ?? p.input) +
			Math.max(0, usage.completion_tokens) * p.output;
		return usd * PER_TOKEN;
	}

	private find<T>(model: string, get: (m: string) => T | undefined): T | null {
		const exact = get(model);
		if (exact) return exact;
		const slash = model.indexOf("/");
		return slash === -1 ? null : (get(model.slice(slash + 1)) ?? null);
	}
}
