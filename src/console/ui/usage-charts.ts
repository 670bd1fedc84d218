import type { Api, Query } from "./api.ts";
import { chart } from "./chart.ts";
import { fmtInt, fmtMs, fmtUsd, h } from "./dom.ts";
import { errorNotice } from "./forms.ts";
import { alignToBuckets, BUCKET_MS, bucketStarts, RANGES, type Range, type UsageAnswer } from "./usage-data.ts";

const perSecond = (v: number | null) => (v === null ? "—" : v >= 10 ? v.toFixed(1) : v.toPrecision(2));

/** Totals and charts of one window from /admin/usage (time buckets, any filters). */
export async function usageCharts(api: Api, range: Range, filters: Query): Promise<HTMLElement> {
	const starts = bucketStarts(range);
	const answer = await api.get<UsageAnswer>("/usage", {
		...filters,
		group_by: range.bucket,
		since: new Date(starts[0] ?? Date.now()).toISOString(),
	});
	const rows = answer.data;
	const sum = (f: (r: (typeof rows)[number]) => number | null) => rows.reduce((a, r) => a + (f(r) ?? 0), 0);
	const x = starts.map((s) => s / 1000);
	const seconds = BUCKET_MS[range.bucket] / 1000;
	const counts = (f: (r: (typeof rows)[number]) => number | null) => alignToBuckets(starts, rows, f, 0);
	const gaps = (label: string, f: (r: (typeof rows)[number]) => number | null) => ({
		label,
		values: alignToBuckets(starts, rows, f, null),
		points: true,
	});
	const card = (label: string, value: string) =>
		h(
			"div",
			{ class: "card", "data-stat": label },
			h("div", { class: "label" }, label),
			h("div", { class: "value" }, value),
		);
	return h(
		"section",
		{ "aria-label": `Usage, ${range.label.toLowerCase()}` },
		h(
			"div",
			{ class: "cards" },
			card("Requests", fmtInt(sum((r) => r.requests))),
			card("Errors", fmtInt(sum((r) => r.errors))),
			card("Tokens", fmtInt(sum((r) => r.total_tokens))),
			card("Spend", fmtUsd(sum((r) => r.cost_usd))),
		),
		h(
			"div",
			{ class: "charts" },
			chart({
				title: "Requests per second",
				x,
				series: [
					{ label: "requests/s", values: counts((r) => r.requests / seconds) },
					{ label: "errors/s", values: counts((r) => r.errors / seconds) },
				],
				format: perSecond,
			}),
			chart({
				title: "Spend (USD)",
				x,
				series: [{ label: "spend", values: counts((r) => r.cost_usd) }],
				format: fmtUsd,
			}),
			chart({
				title: "Tokens",
				x,
				series: [
					{ label: "prompt", values: counts((r) => r.prompt_tokens) },
					{ label: "completion", values: counts((r) => r.completion_tokens) },
				],
				format: fmtInt,
			}),
			chart({
				title: "Latency and time to first token",
				x,
				series: [
					gaps("latency p50", (r) => r.latency_ms_p50),
					gaps("latency p99", (r) => r.latency_ms_p99),
					gaps("TTFT p50", (r) => r.ttft_ms_p50),
					gaps("TTFT p99", (r) => r.ttft_ms_p99),
				],
				format: fmtMs,
			}),
		),
	);
}

/** Buttons choosing the window (pressed state for screen readers), and the area it fills. */
export function rangePicker(initial: string, render: (range: Range) => Promise<HTMLElement>): HTMLElement {
	const area = h("div", { "aria-busy": "true" });
	const buttons = RANGES.map((r) =>
		h("button", { type: "button", "aria-pressed": String(r.id === initial), onclick: () => show(r) }, r.label),
	);
	const show = async (r: Range) => {
		buttons.forEach((b, i) => {
			b.setAttribute("aria-pressed", String(RANGES[i]?.id === r.id));
		});
		area.setAttribute("aria-busy", "true");
		try {
			area.replaceChildren(await render(r));
		} catch (err) {
			area.replaceChildren(errorNotice(err));
		}
		area.setAttribute("aria-busy", "false");
	};
	void show(RANGES.find((r) => r.id === initial) ?? (RANGES[0] as Range));
	return h(
		"div",
		null,
		h(
			"div",
			{ class: "toolbar" },
			h("div", { class: "segmented", role: "group", "aria-label": "Time window" }, buttons),
		),
		area,
	);
}
