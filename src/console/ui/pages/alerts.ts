import { action, fmtTime, h, table, title } from "../dom.ts";
import { apiForm, type FieldSpec } from "../forms.ts";
import type { Page } from "../page.ts";

interface Webhook {
	id: string;
	source: "config" | "admin";
	url: string;
	events: string[] | null;
	format: string;
	secret: string | null;
	created_at: string | null;
}

const ALERT_FIELDS: FieldSpec[] = [
	{ name: "url", label: "Webhook URL", kind: "text", required: true, wide: true },
	{ name: "events", label: "Events", kind: "list", help: "comma list; empty: every event" },
	{
		name: "format",
		label: "Format",
		kind: "select",
		options: [
			["", "json (default)"],
			["json", "json"],
			["slack", "slack"],
		],
	},
	{ name: "secret", label: "Signing secret", kind: "secret", help: "8+ characters; empty: unsigned" },
];

export const alertsPage: Page = async ({ api, refresh }) => {
	const { data } = await api.get<{ data: Webhook[] }>("/alerts");
	return h(
		"div",
		null,
		title("Alerts"),
		h(
			"details",
			{ class: "panel" },
			h("summary", null, "Add an alert webhook"),
			apiForm({
				label: "Add an alert webhook",
				specs: ALERT_FIELDS,
				mode: "create",
				submit: "Add webhook",
				onSubmit: async (body) => {
					await api.call("POST", "/alerts", body);
					refresh();
				},
			}),
		),
		table(
			"Alert webhooks",
			[
				{ label: "URL", cell: (w) => h("code", null, w.url) },
				{ label: "Events", cell: (w) => w.events?.join(", ") ?? "all" },
				{ label: "Format", cell: (w) => w.format },
				{ label: "Secret", cell: (w) => w.secret ?? "unsigned" },
				{ label: "Source", cell: (w) => (w.source === "config" ? "config file" : "runtime") },
				{ label: "Created", cell: (w) => fmtTime(w.created_at) },
				{
					label: "Actions",
					cell: (w) =>
						w.source === "config"
							? null
							: action(
									"Delete",
									async () => {
										await api.call("DELETE", `/alerts/${encodeURIComponent(w.id)}`);
										refresh();
									},
									{ danger: true, confirm: `Delete the webhook to ${w.url}?`, name: `Delete webhook ${w.url}` },
								),
				},
			],
			data,
			"No alert webhooks.",
		),
	);
};
