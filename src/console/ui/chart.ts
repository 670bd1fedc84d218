import uPlot from "uplot";
import { type Column, h, table } from "./dom.ts";

export interface Series {
	label: string;
	values: (number | null)[];
	/** Draw every point: series with gaps (latencies of empty buckets) may have lone values. */
	points?: boolean;
}

/** Distinguishable on white, each at least 3:1 against it. */
const COLORS = ["#1f5fbf", "#c2410c", "#15803d", "#7e22ce", "#b91c1c", "#0e7490", "#a16207", "#be185d"];

export interface ChartOptions {
	title: string;
	/** Seconds since the epoch for time charts; category labels otherwise. */
	x: number[] | string[];
	series: Series[];
	format: (v: number | null) => string;
	/** Bars (categories) instead of lines (time). */
	bars?: boolean;
}

/**
 * A uPlot chart in a figure, with its numbers as a table under "Show data": the text
 * alternative for screen readers (and what the tests read).
 */
export function chart(opts: ChartOptions): HTMLElement {
	const plot = h("div", { class: "plot", role: "img", "aria-label": summary(opts) });
	const isTime = !opts.bars;
	const labels = opts.x.map((x) =>
		typeof x === "number" ? new Date(x * 1000).toISOString().slice(0, 16).replace("T", " ") : x,
	);
	const columns: Column<number>[] = [
		{ label: isTime ? "Time (UTC)" : "", cell: (i) => labels[i] },
		...opts.series.map((s) => ({ label: s.label, num: true, cell: (i: number) => opts.format(s.values[i] ?? null) })),
	];
	const figure = h(
		"figure",
		{ class: "chart" },
		h("figcaption", null, opts.title),
		plot,
		h(
			"details",
			null,
			h("summary", null, "Show data"),
			table(
				opts.title,
				columns,
				opts.x.map((_, i) => i),
			),
		),
	);
	mountWhenSized(plot, (width) => {
		const xs = isTime ? (opts.x as number[]) : opts.x.map((_, i) => i);
		const u = new uPlot(
			{
				width,
				height: 190,
				scales: { x: { time: isTime } },
				legend: { live: true },
				series: [
					{},
					...opts.series.map((s, i) => ({
						label: s.label,
						stroke: COLORS[i % COLORS.length],
						fill: opts.bars ? `${COLORS[i % COLORS.length]}cc` : undefined,
						width: 2,
						points: { show: s.points || xs.length < 40, size: 5 },
						paths: opts.bars ? uPlot.paths.bars?.({ size: [0.7, 48] }) : undefined,
						value: (_u: uPlot, v: number | null) => opts.format(v),
					})),
				],
				axes: [
					isTime
						? {}
						: {
								values: (_u: uPlot, splits: number[]) => splits.map((i) => truncate(labels[i] ?? "")),
								rotate: 0,
							},
					{ values: (_u: uPlot, splits: number[]) => splits.map((v) => opts.format(v)), size: 84 },
				],
			},
			[xs, ...opts.series.map((s) => s.values)] as uPlot.AlignedData,
			plot,
		);
		return (w) => u.setSize({ width: w, height: 190 });
	});
	return figure;
}

const truncate = (s: string) => (s.length > 14 ? `${s.slice(0, 13)}…` : s);

function summary(opts: ChartOptions): string {
	const parts = opts.series.map((s) => {
		const vals = s.values.filter((v): v is number => v !== null);
		const max = vals.length ? Math.max(...vals) : null;
		return `${s.label}: highest ${opts.format(max)}`;
	});
	return `${opts.title}, ${opts.x.length} points. ${parts.join("; ")}`;
}

/** uPlot draws at a fixed width: create it once the box has one, resize with the box. */
function mountWhenSized(el: HTMLElement, create: (width: number) => (width: number) => void): void {
	let resize: ((w: number) => void) | null = null;
	new ResizeObserver((entries) => {
		const w = Math.floor(entries[0]?.contentRect.width ?? 0);
		if (w <= 0) return;
		if (resize) resize(w);
		else resize = create(w);
	}).observe(el);
}
