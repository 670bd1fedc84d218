import { facts, fmtInt, fmtMs, fmtTime, fmtUsd, h, json, title } from "../dom.ts";
import type { FieldSpec } from "../forms.ts";
import type { Page } from "../page.ts";
import { pagedList } from "../paged-list.ts";

interface LogRow {
	ts: string;
	request_id: string;
	key_id: string | null;
	tenant_id: string | null;
	endpoint: string;
	requested_model: string | null;
	provider: string | null;
	account: string | null;
	model: string | null;
	stream: boolean;
	status: number;
	error_code: string | null;
	attempts: number;
	latency_ms: number;
	ttft_ms: number | null;
	total_tokens: number;
	cost_usd: number | null;
	[field: string]: unknown;
}

const SINCE_HELP = "30m, 24h, 7d or a date";
const FILTERS: FieldSpec[] = [
	{ name: "key_id", label: "Key id", kind: "text" },
	{ name: "model", label: "Model", kind: "text" },
	{ name: "status", label: "Status", kind: "int", help: "an HTTP status" },
	{ name: "since", label: "Since", kind: "text", help: SINCE_HELP },
	{ name: "until", label: "Until", kind: "text", help: SINCE_HELP },
];

export const logsPage: Page = ({ api }) =>
	pagedList<LogRow>({
		api,
		path: "/logs",
		heading: "Request logs",
		filterLabel: "Filter requests",
		filters: FILTERS,
		caption: "Requests, newest first",
		columns: [
			{ label: "Time (UTC)", cell: (r) => fmtTime(r.ts) },
			{
				label: "Request",
				cell: (r) => h("a", { href: `#/logs/${encodeURIComponent(r.request_id)}` }, r.request_id),
			},
			{ label: "Key", cell: (r) => r.key_id ?? "—" },
			{ label: "Model", cell: (r) => r.model ?? r.requested_model ?? "—" },
			{ label: "Upstream", cell: (r) => (r.provider ? `${r.provider}/${r.account}` : "—") },
			{ label: "Status", num: true, cell: (r) => String(r.status) },
			{ label: "Latency", num: true, cell: (r) => fmtMs(r.latency_ms) },
			{ label: "Tokens", num: true, cell: (r) => fmtInt(r.total_tokens) },
			{ label: "Cost", num: true, cell: (r) => fmtUsd(r.cost_usd) },
		],
		empty: "No requests match.",
	});

/** One request: its row, and its bodies when body logging kept them. */
export const logPage: Page = async ({ api, params }) => {
	const id = params[0] ?? "";
	const r = await api.get<LogRow & { request_body: unknown; response_body: unknown }>(
		`/logs/${encodeURIComponent(id)}`,
	);
	const { request_body, response_body, ...row } = r;
	return h(
		"div",
		null,
		title(`Request ${id}`),
		h("p", null, h("a", { href: "#/logs" }, "← All requests")),
		h(
			"div",
			{ class: "panel" },
			facts(
				Object.entries(row).map(([k, v]) => [
					k,
					v === null ? "—" : typeof v === "object" ? JSON.stringify(v) : String(v),
				]),
			),
		),
		h("h2", null, "Request body"),
		request_body === null || request_body === undefined
			? h("p", { class: "muted" }, "Not logged.")
			: json(request_body),
		h("h2", null, "Response body"),
		response_body === null || response_body === undefined
			? h("p", { class: "muted" }, "Not logged.")
			: json(response_body),
	);
};
