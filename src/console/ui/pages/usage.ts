import { type Query, queryString } from "../api.ts";
import { chart, type Series } from "../chart.ts";
import { fmtInt, fmtMs, fmtTime, fmtUsd, h, table, title } from "../dom.ts";
import { apiForm, type FieldSpec } from "../forms.ts";
import type { Page } from "../page.ts";
import { BUCKET_MS, type Bucket, dimensionValue, type UsageAnswer, type UsageRow } from "../usage-data.ts";

const DIMENSIONS = [
	["", "(none)"],
	["key", "key"],
	["tenant", "tenant"],
	["model", "model"],
	["provider", "provider"],
	["account", "account"],
	["status", "status"],
	["minute", "minute"],
	["hour", "hour"],
	["day", "day"],
] as const;
const TIME = new Set(["minute", "hour", "day"]);

const METRICS = [
	["cost_usd", "Spend (USD)"],
	["requests", "Requests"],
	["errors", "Errors"],
	["total_tokens", "Tokens"],
	["prompt_tokens", "Prompt tokens"],
	["completion_tokens", "Completion tokens"],
	["latency_ms_p50", "Latency p50"],
	["latency_ms_p99", "Latency p99"],
	["ttft_ms_p50", "TTFT p50"],
	["ttft_ms_p99", "TTFT p99"],
] as const;
type Metric = (typeof METRICS)[number][0];
const isLatency = (m: Metric) => m.includes("_ms_");
const formatOf = (m: Metric) => (m === "cost_usd" ? fmtUsd : isLatency(m) ? fmtMs : fmtInt);

const FIELDS: FieldSpec[] = [
	{ name: "by1", label: "Group by", kind: "select", options: DIMENSIONS },
	{ name: "by2", label: "Then by", kind: "select", options: DIMENSIONS },
	{ name: "metric", label: "Chart", kind: "select", options: METRICS },
	{
		name: "since",
		label: "Since",
		kind: "text",
		placeholder: "24h",
		help: "30m, 24h, 7d or a date; minute buckets: 7 days at most",
	},
	{ name: "until", label: "Until", kind: "text", help: "exclusive; empty: now" },
	{ name: "key_id", label: "Key id", kind: "text" },
	{ name: "tenant_id", label: "Tenant", kind: "text" },
	{ name: "model", label: "Model", kind: "text" },
	{ name: "provider", label: "Provider", kind: "text" },
	{ name: "account", label: "Account", kind: "text" },
	{ name: "status", label: "Status", kind: "text", help: "200, 4xx, 5xx or error" },
];
const SERIES_MAX = 8;
const BARS_MAX = 20;
/** A week of minutes: the API's own bound for minute buckets. */
const BUCKETS_MAX = 10_080;

/** The chart for up to two dimensions: lines over time (one per value of the other dimension), else bars. */
function usageChart(dims: string[], answer: UsageAnswer, metric: Metric, label: string): HTMLElement {
	const rows = answer.data;
	const value = (r: UsageRow) => (r[metric] as number | null) ?? (isLatency(metric) ? null : 0);
	const format = formatOf(metric);
	const time = dims.find((d) => TIME.has(d));
	if (!time) {
		const top = [...rows].sort((a, b) => (value(b) ?? 0) - (value(a) ?? 0)).slice(0, BARS_MAX);
		const x = top.map((r) => (dims.length ? dims.map((d) => dimensionValue(r, d)).join(" · ") : "all"));
		return chart({
			title: `${label} by ${dims.join(" and ") || "total"}`,
			x,
			series: [{ label, values: top.map(value) }],
			format,
			bars: true,
		});
	}
	const other = dims.find((d) => d !== time);
	const buckets = bucketRange(answer, time as Bucket);
	const totals = new Map<string, number>();
	for (const r of rows) {
		const k = other ? dimensionValue(r, other) : label;
		totals.set(k, (totals.get(k) ?? 0) + (value(r) ?? 0));
	}
	const names = [...totals.entries()]
		.sort((a, b) => b[1] - a[1])
		.slice(0, SERIES_MAX)
		.map(([k]) => k);
	const series: Series[] = names.map((name) => {
		const byBucket = new Map(
			rows.filter((r) => (other ? dimensionValue(r, other) : label) === name).map((r) => [r.bucket, value(r)]),
		);
		return {
			label: name,
			values: buckets.map((b) => byBucket.get(b) ?? (isLatency(metric) ? null : 0)),
			points: buckets.length <= 200,
		};
	});
	return chart({
		title: `${label} by ${time}${other ? ` and ${other}` : ""}`,
		x: buckets.map((b) => Date.parse(b) / 1000),
		series,
		format,
	});
}

/** Every bucket of the queried window (empty ones too), so the time axis spans what was asked. */
function bucketRange(answer: UsageAnswer, bucket: Bucket): string[] {
	const size = BUCKET_MS[bucket];
	const seen = answer.data.map((r) => Date.parse(r.bucket ?? "")).filter((t) => !Number.isNaN(t));
	const from = answer.since ? Date.parse(answer.since) : Math.min(...seen);
	const to = answer.until ? Date.parse(answer.until) - 1 : Date.now();
	const first = Math.floor(from / size) * size;
	const count = Math.min(Math.floor(to / size) - first / size + 1, BUCKETS_MAX);
	return Array.from({ length: Math.max(count, 1) }, (_, i) => new Date(first + i * size).toISOString());
}

function cell(col: string, v: unknown): string {
	if (v === null || v === undefined) return "—";
	if (col === "bucket") return fmtTime(v as string);
	if (col === "cost_usd") return fmtUsd(v as number);
	if (col.includes("_ms_")) return fmtMs(v as number);
	if (typeof v === "number") return fmtInt(v);
	return String(v);
}

export const usagePage: Page = async ({ api }) => {
	const result = h("div", { "aria-live": "polite" });
	const run = async (form: Record<string, unknown>) => {
		const { by1, by2, metric, ...filters } = form as Record<string, string>;
		const dims = [by1, by2].filter((d): d is string => Boolean(d));
		const query: Query = { ...filters, since: filters.since ?? "24h", group_by: dims.join(",") || null };
		const answer = await api.get<UsageAnswer>("/usage", query);
		const chosen = (metric ?? "cost_usd") as Metric;
		const label = METRICS.find(([m]) => m === chosen)?.[1] ?? chosen;
		const download = h("button", { type: "button" }, "Download CSV");
		download.addEventListener("click", async () => {
			const res = await api.raw("GET", `/usage${queryString({ ...query, format: "csv" })}`, undefined, "text/csv");
			const a = h("a", { href: URL.createObjectURL(await res.blob()), download: "usage.csv" });
			a.click();
			URL.revokeObjectURL(a.href);
		});
		result.replaceChildren(
			h(
				"div",
				{ class: "toolbar" },
				download,
				answer.truncated ? h("span", { class: "notice error" }, "Truncated at 10,000 rows: narrow the filters.") : null,
			),
			answer.data.length ? usageChart(dims, answer, chosen, label) : h("p", { class: "muted" }, "No requests match."),
			table(
				`${fmtInt(answer.data.length)} rows`,
				answer.columns.map((c) => ({
					label: c,
					num: !dims.some((d) => c.startsWith(d)) && c !== "bucket",
					cell: (r: UsageRow) => cell(c, (r as unknown as Record<string, unknown>)[c]),
				})),
				answer.data,
			),
		);
	};
	const form = apiForm({
		label: "Usage query",
		specs: FIELDS,
		values: { by1: "day", by2: "model", since: "7d" },
		mode: "create",
		submit: "Show usage",
		onSubmit: run,
	});
	await run({ by1: "day", by2: "model", since: "7d" });
	return h("div", null, title("Usage explorer"), h("div", { class: "panel" }, form), result);
};
