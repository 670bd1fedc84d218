import type { Api } from "../api.ts";
import { action, badge, fmtInt, fmtMs, h, table, title } from "../dom.ts";
import { apiForm, type FieldSpec } from "../forms.ts";
import type { Page } from "../page.ts";

interface Account {
	id: string | null;
	name: string;
	api_key: string;
	base_url: string | null;
	weight: number;
	enabled: boolean;
	live: {
		status: { state: string; reason: string | null; since: string | null; until: string | null };
		inflight: number;
		error_ratio: number;
		ewma_ttft_ms: number | null;
		attempts: number;
		failures: number;
		disabled: boolean;
		models: { model: string; state: string }[];
	} | null;
}

interface Provider {
	name: string;
	source: "config" | "database";
	type: string;
	base_url: string;
	models: string[];
	strategy: string;
	accounts: Account[];
}

const PROVIDER_FIELDS: FieldSpec[] = [
	{ name: "name", label: "Name", kind: "text", required: true },
	{ name: "type", label: "Type", kind: "text", placeholder: "openai", help: "a preset such as openai or anthropic" },
	{ name: "base_url", label: "Base URL", kind: "text", placeholder: "https://api.example.com/v1" },
	{ name: "models", label: "Models", kind: "list", help: "comma list; empty: any model as provider/model" },
];
const ACCOUNT_FIELDS: FieldSpec[] = [
	{ name: "name", label: "Account name", kind: "text", required: true },
	{ name: "api_key", label: "API key", kind: "secret", required: true },
	{ name: "weight", label: "Weight", kind: "int" },
];

const accountPath = (p: Provider, a: Account) =>
	`/providers/${encodeURIComponent(p.name)}/accounts/${encodeURIComponent(a.name)}`;

function health(a: Account): HTMLElement {
	const s = a.live?.status;
	if (!a.enabled) return badge("disabled");
	if (!s) return h("span", { class: "muted" }, "unknown");
	const until = s.until ? ` until ${s.until.slice(11, 19)}` : "";
	return h("span", null, badge(s.state), s.reason ? h("span", { class: "muted" }, ` ${s.reason}${until}`) : null);
}

/** Enable/disable, re-enable after an upstream 401/403, rotate the key: what an operator does to an account. */
function accountActions(api: Api, p: Provider, a: Account, refresh: () => void): HTMLElement {
	const label = `${p.name}/${a.name}`;
	const out = h("div", { class: "row-actions" });
	if (a.live?.disabled)
		out.append(
			action(
				"Re-enable",
				async () => {
					await api.call("POST", `${accountPath(p, a)}/enable`);
					refresh();
				},
				{ name: `Re-enable ${label}` },
			),
		);
	if (p.source === "config") return out;
	out.append(
		action(
			a.enabled ? "Disable" : "Enable",
			async () => {
				await api.call("PATCH", accountPath(p, a), { enabled: !a.enabled });
				refresh();
			},
			{ name: `${a.enabled ? "Disable" : "Enable"} ${label}`, danger: a.enabled },
		),
	);
	const rotate = h("details", null, h("summary", null, "Rotate key"));
	rotate.append(
		apiForm({
			label: `Rotate the key of ${label}`,
			specs: [{ name: "api_key", label: "New API key", kind: "secret", required: true }],
			mode: "create",
			submit: "Rotate",
			onSubmit: async (body) => {
				await api.call("PATCH", accountPath(p, a), body);
				refresh();
			},
		}),
	);
	out.append(rotate);
	return out;
}

export const providersPage: Page = async ({ api, refresh }) => {
	const { data } = await api.get<{ data: Provider[] }>("/providers");
	return h(
		"div",
		null,
		title("Providers and accounts"),
		h(
			"details",
			{ class: "panel" },
			h("summary", null, "Add a provider"),
			apiForm({
				label: "Add a provider",
				specs: PROVIDER_FIELDS,
				mode: "create",
				submit: "Add provider",
				onSubmit: async (body) => {
					await api.call("POST", "/providers", { models: [], ...body });
					refresh();
				},
			}),
		),
		data.length ? null : h("p", { class: "muted" }, "No providers."),
		data.map((p) =>
			h(
				"section",
				{ "aria-label": `Provider ${p.name}` },
				h(
					"h2",
					null,
					`${p.name} `,
					h("span", { class: "muted" }, `(${p.type}, ${p.source === "config" ? "config file" : "runtime"})`),
				),
				h(
					"p",
					{ class: "muted" },
					`${p.base_url} · ${p.models.length ? p.models.join(", ") : "any model"} · ${p.strategy}`,
				),
				table(
					`Accounts of ${p.name}`,
					[
						{ label: "Account", cell: (a) => a.name },
						{ label: "Health", cell: (a) => health(a) },
						{ label: "Key", cell: (a) => h("code", null, a.api_key) },
						{ label: "In flight", num: true, cell: (a) => fmtInt(a.live?.inflight ?? 0) },
						{ label: "Error ratio", num: true, cell: (a) => `${((a.live?.error_ratio ?? 0) * 100).toFixed(1)}%` },
						{ label: "TTFT", num: true, cell: (a) => fmtMs(a.live?.ewma_ttft_ms ?? null) },
						{ label: "Attempts", num: true, cell: (a) => fmtInt(a.live?.attempts ?? 0) },
						{
							label: "Models cooling",
							cell: (a) => a.live?.models.map((m) => `${m.model} (${m.state})`).join(", ") || "—",
						},
						{ label: "Actions", cell: (a) => accountActions(api, p, a, refresh) },
					],
					p.accounts,
					"No accounts.",
				),
				p.source === "config"
					? null
					: h(
							"details",
							{ class: "panel" },
							h("summary", null, `Add an account to ${p.name}`),
							apiForm({
								label: `Add an account to ${p.name}`,
								specs: ACCOUNT_FIELDS,
								mode: "create",
								submit: "Add account",
								onSubmit: async (body) => {
									await api.call("POST", `/providers/${encodeURIComponent(p.name)}/accounts`, body);
									refresh();
								},
							}),
						),
			),
		),
	);
};
