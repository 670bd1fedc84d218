import { action, h, table, title } from "../dom.ts";
import { apiForm, type FieldSpec } from "../forms.ts";
import type { Page } from "../page.ts";

interface Group {
	name: string;
	targets: string[];
	strategy: string;
	weights: number[] | null;
	source: "config" | "database";
}

const GROUP_FIELDS: FieldSpec[] = [
	{ name: "name", label: "Name", kind: "text", required: true },
	{
		name: "targets",
		label: "Targets",
		kind: "list",
		required: true,
		help: "comma list, in order: model or provider/model",
	},
	{
		name: "strategy",
		label: "Strategy",
		kind: "select",
		options: [
			["", "ordered (default)"],
			["ordered", "ordered"],
			["weighted", "weighted"],
		],
	},
	{ name: "weights", label: "Weights", kind: "list", help: "weighted only: one integer per target" },
];

export const modelGroupsPage: Page = async ({ api, refresh }) => {
	const { data } = await api.get<{ data: Group[] }>("/model-groups");
	return h(
		"div",
		null,
		title("Model groups"),
		h(
			"details",
			{ class: "panel" },
			h("summary", null, "Create a model group"),
			apiForm({
				label: "Create a model group",
				specs: GROUP_FIELDS,
				mode: "create",
				submit: "Create group",
				onSubmit: async (body) => {
					const weights = body.weights as string[] | undefined;
					await api.call("POST", "/model-groups", { ...body, ...(weights ? { weights: weights.map(Number) } : {}) });
					refresh();
				},
			}),
		),
		table(
			"Model groups",
			[
				{ label: "Name", cell: (g) => h("code", null, g.name) },
				{ label: "Targets", cell: (g) => g.targets.join(" → ") },
				{ label: "Strategy", cell: (g) => g.strategy },
				{ label: "Weights", cell: (g) => g.weights?.join(", ") ?? "—" },
				{ label: "Source", cell: (g) => (g.source === "config" ? "config file" : "runtime") },
				{
					label: "Actions",
					cell: (g) =>
						g.source === "config"
							? null
							: action(
									"Delete",
									async () => {
										await api.call("DELETE", `/model-groups/${encodeURIComponent(g.name)}`);
										refresh();
									},
									{ danger: true, confirm: `Delete model group ${g.name}?`, name: `Delete ${g.name}` },
								),
				},
			],
			data,
			"No model groups.",
		),
	);
};
