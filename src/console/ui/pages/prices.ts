import { action, h, table, title } from "../dom.ts";
import { apiForm, type FieldSpec } from "../forms.ts";
import type { Page } from "../page.ts";

interface Price {
	model: string;
	input: number;
	output: number;
	cached_input: number | null;
	cache_write: number | null;
	source: "catalog" | "config" | "database";
}

const PRICE_FIELDS: FieldSpec[] = [
	{ name: "input", label: "Input", kind: "number", required: true, help: "USD per million tokens" },
	{ name: "output", label: "Output", kind: "number", required: true, help: "USD per million tokens" },
	{ name: "cached_input", label: "Cached input", kind: "number", help: "empty: the input price" },
	{ name: "cache_write", label: "Cache write", kind: "number", help: "empty: the input price" },
];

const usd = (n: number | null) => (n === null ? "—" : `$${n}`);

export const pricesPage: Page = async ({ api, refresh }) => {
	const { data } = await api.get<{ data: Price[] }>("/prices", { include_catalog: "true" });
	const filter = h("input", { id: "price-filter", type: "search", placeholder: "gpt-4o" });
	const list = h("div");
	const show = () => {
		const q = filter.value.trim().toLowerCase();
		const rows = data.filter((p) => !q || p.model.toLowerCase().includes(q));
		list.replaceChildren(
			table(
				`Prices (USD per million tokens), ${rows.length} of ${data.length}`,
				[
					{ label: "Model", cell: (p) => h("code", null, p.model) },
					{ label: "Input", num: true, cell: (p) => usd(p.input) },
					{ label: "Output", num: true, cell: (p) => usd(p.output) },
					{ label: "Cached input", num: true, cell: (p) => usd(p.cached_input) },
					{ label: "Cache write", num: true, cell: (p) => usd(p.cache_write) },
					{ label: "Source", cell: (p) => (p.source === "database" ? "override" : p.source) },
					{
						label: "Actions",
						cell: (p) =>
							p.source === "database"
								? action(
										"Remove override",
										async () => {
											await api.call("DELETE", `/prices/${encodeURIComponent(p.model)}`);
											refresh();
										},
										{ danger: true, name: `Remove the override of ${p.model}` },
									)
								: null,
					},
				],
				rows.slice(0, 300),
				"No prices match.",
			),
		);
	};
	filter.addEventListener("input", show);
	show();
	return h(
		"div",
		null,
		title("Prices"),
		h(
			"p",
			{ class: "muted" },
			"The bundled catalog, the config file's prices and the overrides set here; an override wins over both.",
		),
		h(
			"details",
			{ class: "panel" },
			h("summary", null, "Set a price override"),
			apiForm({
				label: "Set a price override",
				specs: [{ name: "model", label: "Model", kind: "text", required: true }, ...PRICE_FIELDS],
				mode: "create",
				submit: "Save price",
				onSubmit: async ({ model, ...price }) => {
					await api.call("PUT", `/prices/${encodeURIComponent(String(model))}`, price);
					refresh();
				},
			}),
		),
		h("div", { class: "toolbar" }, h("label", { for: "price-filter" }, "Find a model"), filter),
		list,
	);
};
