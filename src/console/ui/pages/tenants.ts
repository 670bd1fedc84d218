import { action, fmtInt, fmtLimit, fmtTime, fmtUsd, h, table, title } from "../dom.ts";
import { apiForm, type FieldSpec, LIMIT_FIELDS } from "../forms.ts";
import type { Page } from "../page.ts";

interface Tenant {
	id: string;
	name: string;
	rpm: number | null;
	tpm: number | null;
	quota_daily_requests: number | null;
	quota_daily_tokens: number | null;
	budget_usd: number | null;
	budget_period: string;
	log_bodies: string | null;
	active_keys: number;
	created_at: string;
}

const EDIT_FIELDS: FieldSpec[] = [{ name: "name", label: "Name", kind: "text" }, ...LIMIT_FIELDS];
const CREATE_FIELDS: FieldSpec[] = [
	{ name: "id", label: "Id", kind: "text", help: "letters, digits, _ . : -; empty: generated" },
	{ ...EDIT_FIELDS[0], required: true } as FieldSpec,
	...LIMIT_FIELDS,
];

export const tenantsPage: Page = async ({ api, refresh }) => {
	const { data } = await api.get<{ data: Tenant[] }>("/tenants");
	const editor = h("div");
	const edit = (t: Tenant) => {
		editor.replaceChildren(
			h(
				"section",
				{ class: "panel", "aria-label": `Edit tenant ${t.name}` },
				h("h2", null, `Edit tenant ${t.name}`),
				apiForm({
					label: `Edit tenant ${t.name}`,
					specs: EDIT_FIELDS,
					values: t as unknown as Record<string, unknown>,
					mode: "edit",
					submit: "Save changes",
					onSubmit: async (body) => {
						await api.call("PATCH", `/tenants/${encodeURIComponent(t.id)}`, body);
						refresh();
					},
				}),
			),
		);
		editor.querySelector("input")?.focus();
	};
	return h(
		"div",
		null,
		title("Tenants"),
		h(
			"details",
			{ class: "panel" },
			h("summary", null, "Create a tenant"),
			apiForm({
				label: "Create a tenant",
				specs: CREATE_FIELDS,
				mode: "create",
				submit: "Create tenant",
				onSubmit: async (body) => {
					await api.call("POST", "/tenants", body);
					refresh();
				},
			}),
		),
		editor,
		table(
			"Tenants",
			[
				{ label: "Name", cell: (t) => t.name },
				{ label: "Id", cell: (t) => h("code", null, t.id) },
				{ label: "Keys", num: true, cell: (t) => fmtInt(t.active_keys) },
				{ label: "rpm", num: true, cell: (t) => fmtLimit(t.rpm) },
				{ label: "tpm", num: true, cell: (t) => fmtLimit(t.tpm) },
				{ label: "Req/day", num: true, cell: (t) => fmtLimit(t.quota_daily_requests) },
				{ label: "Tok/day", num: true, cell: (t) => fmtLimit(t.quota_daily_tokens) },
				{
					label: "Budget",
					num: true,
					cell: (t) => (t.budget_usd === null ? "none" : `${fmtUsd(t.budget_usd)}/${t.budget_period}`),
				},
				{ label: "Created", cell: (t) => fmtTime(t.created_at) },
				{
					label: "Actions",
					cell: (t) =>
						h(
							"div",
							{ class: "row-actions" },
							h("button", { type: "button", onclick: () => edit(t), "aria-label": `Edit ${t.name}` }, "Edit"),
							action(
								"Delete",
								async () => {
									await api.call("DELETE", `/tenants/${encodeURIComponent(t.id)}`);
									refresh();
								},
								{ danger: true, confirm: `Delete tenant ${t.name}?`, name: `Delete ${t.name}` },
							),
						),
				},
			],
			data,
			"No tenants yet.",
		),
	);
};
