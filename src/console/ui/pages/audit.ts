import type { Query } from "../api.ts";
import { fmtTime, h, json, table, title } from "../dom.ts";
import { apiForm, type FieldSpec } from "../forms.ts";
import type { Page } from "../page.ts";

interface AuditEntry {
	id: string;
	at: string;
	actor: string;
	actor_fingerprint: string | null;
	action: string;
	target: { type: string; id: string | null };
	before: unknown;
	after: unknown;
	client_address: string | null;
	request_id: string | null;
}

const FILTERS: FieldSpec[] = [
	{ name: "action", label: "Action", kind: "text", placeholder: "key.*" },
	{ name: "target", label: "Target", kind: "text", placeholder: "key:key_…" },
	{ name: "actor", label: "Actor", kind: "text", placeholder: "token" },
	{ name: "since", label: "Since", kind: "text", help: "30m, 24h, 7d or a date" },
];

function change(e: AuditEntry): HTMLElement {
	return h(
		"details",
		null,
		h("summary", null, "Before / after"),
		h(
			"div",
			{ class: "grid-2" },
			h("div", null, h("strong", null, "Before"), json(e.before)),
			h("div", null, h("strong", null, "After"), json(e.after)),
		),
	);
}

export const auditPage: Page = async ({ api }) => {
	const entries: AuditEntry[] = [];
	const list = h("div");
	const more = h("button", { type: "button", hidden: true }, "Load older");
	let query: Query = {};
	let cursor: string | null = null;
	const load = async (append: boolean) => {
		const page = await api.get<{ data: AuditEntry[]; next_cursor: string | null }>("/audit", {
			...query,
			limit: 50,
			cursor: append ? cursor : null,
		});
		if (!append) entries.length = 0;
		entries.push(...page.data);
		cursor = page.next_cursor;
		more.hidden = cursor === null;
		list.replaceChildren(
			table(
				"Admin actions, newest first",
				[
					{ label: "Time (UTC)", cell: (e) => fmtTime(e.at) },
					{
						label: "Actor",
						cell: (e) => [e.actor, e.actor_fingerprint ? h("div", { class: "muted mono" }, e.actor_fingerprint) : null],
					},
					{ label: "Action", cell: (e) => h("code", null, e.action) },
					{ label: "Target", cell: (e) => `${e.target.type}${e.target.id ? `:${e.target.id}` : ""}` },
					{ label: "From", cell: (e) => e.client_address ?? "—" },
					{ label: "Change", cell: change },
				],
				entries,
				"No admin actions match.",
			),
		);
	};
	more.addEventListener("click", () => void load(true));
	await load(false);
	return h(
		"div",
		null,
		title("Audit log"),
		h(
			"div",
			{ class: "panel" },
			apiForm({
				label: "Filter the audit log",
				specs: FILTERS,
				mode: "create",
				submit: "Apply filters",
				onSubmit: async (body) => {
					query = body as Query;
					await load(false);
				},
			}),
		),
		list,
		more,
	);
};
