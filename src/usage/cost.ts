import type { Sql } from "postgres";
import type { PriceConfig } from "../config/types.ts";
import type { TokenUsage } from "./token-usage.ts";

/** USD per million tokens. Null cached/cache-write prices fall back to the input price. */
export interface ModelPrice {
	input: number;
	output: number;
	cached_input: number | null;
	cache_write: number | null;
}

const PER_TOKEN = 1 / 1_000_000;

/**
 * Prices from the config file, overridden by rows of model_prices (the admin API edits
 * those). Looked up by the exact model, then by the bare model of `provider/model`.
 */
export class PriceBook {
	private readonly fromConfig = new Map<string, ModelPrice>();
	private fromDb = new Map<string, ModelPrice>();

	constructor(prices: readonly PriceConfig[] = []) {
		for (const p of prices) {
			this.fromConfig.set(p.model, {
				input: p.input,
				output: p.output,
				cached_input: p.cached_input ?? null,
				cache_write: p.cache_write ?? null,
			});
		}
	}

	/** Replaces the database overrides with the current model_prices rows. */
	async reload(sql: Sql): Promise<void> {
		const rows = await sql<
			{
				model: string;
				input: number;
				output: number;
				cached_input: number | null;
				cache_write: number | null;
			}[]
		>`select model, input_per_mtok as input, output_per_mtok as output,
			cached_input_per_mtok as cached_input, cache_write_per_mtok as cache_write
		  from model_prices`;
		const next = new Map<string, ModelPrice>();
		for (const { model, ...price } of rows) next.set(model, price);
		this.fromDb = next;
	}

	/** Sets one override in memory (e.g. after a PUT /admin/prices/:model). */
	set(model: string, price: ModelPrice): void {
		this.fromDb.set(model, price);
	}

	lookup(model: string): ModelPrice | null {
		const exact = this.fromDb.get(model) ?? this.fromConfig.get(model);
		if (exact) return exact;
		const slash = model.indexOf("/");
		if (slash === -1) return null;
		const bare = model.slice(slash + 1);
		return this.fromDb.get(bare) ?? this.fromConfig.get(bare) ?? null;
	}

	/** 0 when no price is known (the request is still logged, with its tokens). */
	costUsd(model: string, usage: TokenUsage): number {
		const p = this.lookup(model);
		if (!p) return 0;
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
}
