import { fmtTime, h, json } from "../dom.ts";
import type { FieldSpec } from "../forms.ts";
import type { Page } from "../page.ts";
import { pagedList } from "../paged-list.ts";

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

export const auditPage: Page = ({ api }) =>
	pagedList<AuditEntry>({
		api,
		path: "/audit",
		heading: "Audit log",
		filterLabel: "Filter the audit log",
		filters: FILTERS,
		caption: "Admin actions, newest first",
		columns: [
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
		empty: "No admin actions match.",
	});
