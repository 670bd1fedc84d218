import type { Api } from "../api.ts";
import { type Column, fmtInt, fmtMs, fmtUsd, h, table, title } from "../dom.ts";
import type { Page } from "../page.ts";
import { rangePicker, usageCharts } from "../usage-charts.ts";
import { bucketStarts, type Range, type UsageAnswer, type UsageRow } from "../usage-data.ts";

const TOP = 5;

/** The busiest keys, models and providers of the window, by spend (the API's order). */
async function topTables(api: Api, range: Range): Promise<HTMLElement> {
	const since = new Date(bucketStarts(range)[0] ?? Date.now()).toISOString();
	const [keys, models, providers, keyList] = await Promise.all([
		api.get<UsageAnswer>("/usage", { group_by: "key", since }),
		api.get<UsageAnswer>("/usage", { group_by: "model", since }),
		api.get<UsageAnswer>("/usage", { group_by: "provider", since }),
		api.get<{ data: { id: string; name: string | null }[] }>("/keys", { include_revoked: "true" }),
	]);
	const names = new Map(keyList.data.map((k) => [k.id, k.name]));
	const figures: Column<UsageRow>[] = [
		{ label: "Requests", num: true, cell: (r) => fmtInt(r.requests) },
		{ label: "Spend", num: true, cell: (r) => fmtUsd(r.cost_usd) },
		{ label: "p99", num: true, cell: (r) => fmtMs(r.latency_ms_p99) },
	];
	return h(
		"div",
		{ class: "tables-3" },
		table(
			"Top keys",
			[
				{
					label: "Key",
					cell: (r) =>
						r.key_id
							? h("a", { href: `#/keys/${encodeURIComponent(r.key_id)}` }, names.get(r.key_id) ?? r.key_id)
							: "(none)",
				},
				...figures,
			],
			keys.data.slice(0, TOP),
			"No traffic in this window.",
		),
		table(
			"Top models",
			[{ label: "Model", cell: (r) => r.model ?? "(none)" }, ...figures],
			models.data.slice(0, TOP),
			"No traffic in this window.",
		),
		table(
			"Top providers",
			[{ label: "Provider", cell: (r) => r.provider ?? "(none)" }, ...figures],
			providers.data.slice(0, TOP),
			"No traffic in this window.",
		),
	);
}

export const overviewPage: Page = async ({ api }) =>
	h(
		"div",
		null,
		title("Overview"),
		rangePicker("1h", async (range) => h("div", null, await usageCharts(api, range, {}), await topTables(api, range))),
	);
