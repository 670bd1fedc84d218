import { Type } from "@sinclair/typebox";
import { Elysia } from "elysia";
import type { Sql } from "postgres";
import { type ModelPrice, ModelPriceSchema, type PriceConfig } from "../config/model-price.ts";
import type { ChangeBus } from "../control/change-bus.ts";
import { GatewayError } from "../errors/gateway-error.ts";
import { catalogPrices, type PriceBook, selectPrices } from "../usage/cost.ts";
import type { AdminAuditLog } from "./admin-audit.ts";
import { adminBody } from "./admin-body.ts";
import { param, type QuerySchema, readQuery } from "./admin-query.ts";

export type PriceView = PriceConfig & {
	object: "model_price";
	/** A database row overrides the config file's price for the same model (both override the catalog). */
	source: "catalog" | "config" | "database";
};

/** GET /admin/prices parameters. */
export const PriceListQuery = Type.Object({
	include_catalog: param("true to list the shipped catalog's prices too (source: catalog), under the others"),
}) satisfies QuerySchema;

/** Model prices: config-file prices, overridden by model_prices rows that the admin API writes. */
export class PriceService {
	constructor(
		private readonly sql: Sql,
		private readonly book: PriceBook,
		private readonly fromConfig: readonly PriceConfig[],
		private readonly bus: ChangeBus | null,
	) {}

	async list(includeCatalog = false): Promise<PriceView[]> {
		const rows = await this.rows();
		const out = new Map<string, PriceView>();
		if (includeCatalog)
			for (const p of catalogPrices()) out.set(p.model, { ...p, object: "model_price", source: "catalog" });
		for (const p of this.fromConfig) {
			out.set(p.model, { ...p, object: "model_price", source: "config" });
		}
		for (const r of rows) out.set(r.model, { ...r, object: "model_price", source: "database" });
		return [...out.values()].sort((a, b) => a.model.localeCompare(b.model));
	}

	async put(model: string, p: ModelPrice): Promise<PriceView> {
		if (model.length === 0 || model.length > 200) {
			throw new GatewayError("PLATFORM_INVALID_REQUEST", "model must be 1 to 200 characters", { param: "model" });
		}
		const price = {
			input: p.input,
			output: p.output,
			cached_input: p.cached_input ?? null,
			cache_write: p.cache_write ?? null,
		};
		await this.sql`
			insert into model_prices (model, input_per_mtok, output_per_mtok, cached_input_per_mtok, cache_write_per_mtok)
			values (${model}, ${price.input}::float8, ${price.output}::float8, ${price.cached_input}::float8, ${price.cache_write}::float8)
			on conflict (model) do update set input_per_mtok = excluded.input_per_mtok,
				output_per_mtok = excluded.output_per_mtok, cached_input_per_mtok = excluded.cached_input_per_mtok,
				cache_write_per_mtok = excluded.cache_write_per_mtok, updated_at = now()`;
		// This worker prices with it at once; the others reload on the change event.
		this.book.set(model, price);
		await this.bus?.publish({ kind: "prices" });
		return { model, object: "model_price", ...price, source: "database" };
	}

	async remove(model: string): Promise<{ model: string; object: "model_price"; deleted: true }> {
		const r = await this.sql`delete from model_prices where model = ${model} returning model`;
		if (r.length === 0)
			throw new GatewayError("PLATFORM_NOT_FOUND", `No database price for '${model}'`, { param: "model" });
		if (this.bus) await this.bus.publish({ kind: "prices" });
		else await this.book.reload(this.sql);
		return { model, object: "model_price", deleted: true };
	}

	private rows(): Promise<PriceConfig[]> {
		return this.sql<PriceConfig[]>`${selectPrices(this.sql)} order by model`;
	}
}

/** /admin/prices: thin controller over PriceService. */
export function priceRoutes(service: PriceService, audit: AdminAuditLog) {
	const putBody = adminBody(ModelPriceSchema);
	const before = (model: string) => async () => (await service.list()).find((p) => p.model === model) ?? null;
	return new Elysia()
		.get("/prices", async ({ request }) => ({
			object: "list",
			data: await service.list(readQuery(PriceListQuery, request).include_catalog === "true"),
		}))
		.put("/prices/:model", async ({ params, request }) => {
			const model = decodeURIComponent(params.model);
			const body = await putBody(request);
			return audit.audited(request, { action: "price.set", type: "price", id: model, before: before(model) }, () =>
				service.put(model, body),
			);
		})
		.delete("/prices/:model", ({ params, request }) => {
			const model = decodeURIComponent(params.model);
			return audit.audited(request, { action: "price.delete", type: "price", id: model, before: before(model) }, () =>
				service.remove(model),
			);
		});
}
