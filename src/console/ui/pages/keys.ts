import { action, badge, facts, fmtInt, fmtTime, fmtUsd, h, table, title } from "../dom.ts";
import { apiForm, type FieldSpec, LIMIT_FIELDS } from "../forms.ts";
import type { Page } from "../page.ts";
import { rangePicker, usageCharts } from "../usage-charts.ts";

interface KeyView {
	id: string;
	tenant_id: string;
	name: string | null;
	prefix: string;
	models: string[] | null;
	rpm: number | null;
	tpm: number | null;
	max_concurrency: number | null;
	quota_daily_requests: number | null;
	quota_daily_tokens: number | null;
	budget_usd: number | null;
	budget_period: string;
	log_bodies: string | null;
	expires_at: string | null;
	revoked_at: string | null;
	created_at: string;
	usage?: { requests_today: number; tokens_today: number; spent_usd: number; spent_usd_this_period: number };
}

/** Every field a key takes, limits included. */
const KEY_FIELDS: FieldSpec[] = [
	{ name: "name", label: "Name", kind: "text", nullable: true },
	{
		name: "models",
		label: "Models",
		kind: "list",
		nullable: true,
		help: "comma list; empty: every model",
		placeholder: "gpt-4o-mini, gpt-4o",
	},
	...LIMIT_FIELDS.slice(0, 2),
	{ name: "max_concurrency", label: "Concurrent requests", kind: "int", nullable: true, help: "empty: no limit" },
	...LIMIT_FIELDS.slice(2),
	{ name: "expires_at", label: "Expires", kind: "datetime", nullable: true, help: "your local time; empty: never" },
];
const CREATE_FIELDS: FieldSpec[] = [
	{ name: "tenant_id", label: "Tenant", kind: "text", required: true, help: "created if new" },
	...KEY_FIELDS,
];

const stateOf = (k: KeyView) =>
	k.revoked_at
		? badge("revoked")
		: k.expires_at && Date.parse(k.expires_at) < Date.now()
			? badge("expired")
			: badge("active");

const limits = (k: KeyView) =>
	[
		k.rpm !== null && `${fmtInt(k.rpm)} rpm`,
		k.tpm !== null && `${fmtInt(k.tpm)} tpm`,
		k.max_concurrency !== null && `${fmtInt(k.max_concurrency)} concurrent`,
		k.quota_daily_requests !== null && `${fmtInt(k.quota_daily_requests)} req/day`,
		k.quota_daily_tokens !== null && `${fmtInt(k.quota_daily_tokens)} tok/day`,
		k.budget_usd !== null && `${fmtUsd(k.budget_usd)}/${k.budget_period}`,
	]
		.filter(Boolean)
		.join(", ") || "none";

/** The new key, shown this once: it is not stored anywhere the console (or the API) can read again. */
function shownOnce(key: { id: string; key: string }): HTMLElement {
	const input = h("input", { id: "new-key", readonly: true, value: key.key, "aria-describedby": "new-key-help" });
	const box = h(
		"div",
		{ class: "secret-once", role: "region", "aria-label": "New key" },
		h("h2", null, "New key created"),
		h("p", { id: "new-key-help" }, "Copy it now: this is the only time the full key is shown."),
		h("label", { for: "new-key" }, `Key ${key.id}`),
		input,
		h(
			"div",
			{ class: "row-actions" },
			h("button", { type: "button", onclick: () => void navigator.clipboard?.writeText(key.key) }, "Copy"),
			h("button", { type: "button", class: "primary", onclick: () => box.remove() }, "Done"),
		),
	);
	queueMicrotask(() => input.select());
	return box;
}

export const keysPage: Page = async ({ api }) => {
	const list = h("div");
	const showAll = h("input", { type: "checkbox", id: "show-revoked" });
	const load = async () => {
		const { data } = await api.get<{ data: KeyView[] }>("/keys", { include_revoked: showAll.checked ? "true" : null });
		list.replaceChildren(
			table(
				"Keys",
				[
					{ label: "Name", cell: (k) => h("a", { href: `#/keys/${encodeURIComponent(k.id)}` }, k.name ?? k.id) },
					{ label: "Prefix", cell: (k) => h("code", null, `${k.prefix}…`) },
					{ label: "Tenant", cell: (k) => k.tenant_id },
					{ label: "State", cell: stateOf },
					{ label: "Limits", cell: limits },
					{ label: "Today", num: true, cell: (k) => `${fmtInt(k.usage?.requests_today ?? 0)} req` },
					{ label: "Spent", num: true, cell: (k) => fmtUsd(k.usage?.spent_usd ?? 0) },
					{ label: "Created", cell: (k) => fmtTime(k.created_at) },
				],
				data,
				showAll.checked ? "No keys yet." : "No active keys.",
			),
		);
	};
	showAll.addEventListener("change", () => void load());
	const created = h("div");
	const form = apiForm({
		label: "Create a key",
		specs: CREATE_FIELDS,
		mode: "create",
		submit: "Create key",
		onSubmit: async (body) => {
			const key = await api.call<{ id: string; key: string }>("POST", "/keys", body);
			form.reset();
			created.replaceChildren(shownOnce(key));
			await load();
		},
	});
	await load();
	return h(
		"div",
		null,
		title("Keys"),
		created,
		h("details", { class: "panel" }, h("summary", null, "Create a key"), form),
		h("div", { class: "toolbar" }, showAll, h("label", { for: "show-revoked" }, "Show revoked keys")),
		list,
	);
};

export const keyPage: Page = async ({ api, params, refresh }) => {
	const id = params[0] ?? "";
	const k = await api.get<KeyView>(`/keys/${encodeURIComponent(id)}`);
	const edit = apiForm({
		label: "Edit the key",
		specs: KEY_FIELDS,
		values: k as unknown as Record<string, unknown>,
		mode: "edit",
		submit: "Save changes",
		onSubmit: async (body) => {
			await api.call("PATCH", `/keys/${encodeURIComponent(id)}`, body);
			refresh();
		},
	});
	return h(
		"div",
		null,
		title(`Key ${k.name ?? k.id}`),
		h("p", null, h("a", { href: "#/keys" }, "← All keys")),
		h(
			"div",
			{ class: "panel" },
			facts([
				["Id", h("code", null, k.id)],
				["Prefix", h("code", null, `${k.prefix}…`)],
				["Tenant", k.tenant_id],
				["State", stateOf(k)],
				["Models", k.models?.join(", ") ?? "every model"],
				["Limits", limits(k)],
				["Log bodies", k.log_bodies ?? "inherit"],
				["Requests today", fmtInt(k.usage?.requests_today ?? 0)],
				["Spent this period", fmtUsd(k.usage?.spent_usd_this_period ?? 0)],
				["Spent in total", fmtUsd(k.usage?.spent_usd ?? 0)],
				["Expires", k.expires_at ? fmtTime(k.expires_at) : "never"],
				["Created", fmtTime(k.created_at)],
				["Revoked", k.revoked_at ? fmtTime(k.revoked_at) : "no"],
			]),
			k.revoked_at
				? null
				: h(
						"div",
						{ class: "row-actions", style: "margin-top:0.75rem" },
						action(
							"Revoke key",
							async () => {
								await api.call("DELETE", `/keys/${encodeURIComponent(id)}`);
								refresh();
							},
							{ danger: true, confirm: `Revoke ${k.name ?? k.id}? Requests with it are refused at once.` },
						),
					),
		),
		h("h2", null, "Usage"),
		rangePicker("24h", (range) => usageCharts(api, range, { key_id: k.id })),
		k.revoked_at ? null : [h("h2", null, "Limits and settings"), h("div", { class: "panel" }, edit)],
	);
};
