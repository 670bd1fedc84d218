/**
 * A small Prometheus registry whose state is plain data, so each HTTP worker can keep its own
 * (no cross-thread traffic per request) and the supervisor can sum the snapshots on scrape.
 */
export type MetricKind = "counter" | "gauge" | "histogram";

export interface SeriesSnapshot {
	kind: MetricKind;
	help: string;
	/** Histogram upper bounds (seconds); absent for counters and gauges. */
	buckets?: number[];
	/** Rendered label set → value (counter/gauge) or [bucket counts…, sum, count] (histogram). */
	values: Record<string, number | number[]>;
}

export type MetricsSnapshot = Record<string, SeriesSnapshot>;

const escapeLabel = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');

/** `{a="x",b="y"}` body for a label object; stable key order as given. */
export function labels(obj: Record<string, string | number | null | undefined>): string {
	let out = "";
	for (const k in obj) {
		const v = obj[k];
		out += `${out ? "," : ""}${k}="${escapeLabel(v === null || v === undefined ? "" : String(v))}"`;
	}
	return out;
}

export class MetricsRegistry {
	private readonly series: MetricsSnapshot = {};

	private get(name: string, kind: MetricKind, help: string, buckets?: number[]): SeriesSnapshot {
		let s = this.series[name];
		if (!s) {
			s = { kind, help, values: {} };
			if (buckets) s.buckets = buckets;
			this.series[name] = s;
		}
		return s;
	}

	inc(name: string, help: string, labelSet: string, by = 1): void {
		const s = this.get(name, "counter", help);
		s.values[labelSet] = ((s.values[labelSet] as number | undefined) ?? 0) + by;
	}

	/** Sets an absolute value; `kind` "counter" for totals read from elsewhere (e.g. shared memory). */
	set(name: string, help: string, labelSet: string, value: number, kind: "gauge" | "counter" = "gauge"): void {
		this.get(name, kind, help).values[labelSet] = value;
	}

	observe(name: string, help: string, buckets: number[], labelSet: string, value: number): void {
		const s = this.get(name, "histogram", help, buckets);
		let v = s.values[labelSet] as number[] | undefined;
		if (!v) {
			v = new Array(buckets.length + 2).fill(0);
			s.values[labelSet] = v;
		}
		for (let i = 0; i < buckets.length; i++) if (value <= buckets[i]) v[i]++;
		v[buckets.length] += value;
		v[buckets.length + 1]++;
	}

	snapshot(): MetricsSnapshot {
		return structuredClone(this.series);
	}
}

/** Sums snapshots from several workers (gauges are summed too: they are per-worker shares). */
export function mergeSnapshots(snaps: MetricsSnapshot[]): MetricsSnapshot {
	const out: MetricsSnapshot = {};
	for (const snap of snaps) {
		for (const [name, s] of Object.entries(snap)) {
			let target = out[name];
			if (!target) {
				target = { ...s, values: {} };
				out[name] = target;
			}
			for (const [k, v] of Object.entries(s.values)) {
				const cur = target.values[k];
				if (Array.isArray(v)) {
					const arr = (cur as number[] | undefined) ?? new Array(v.length).fill(0);
					for (let i = 0; i < v.length; i++) arr[i] += v[i];
					target.values[k] = arr;
				} else {
					target.values[k] = ((cur as number | undefined) ?? 0) + v;
				}
			}
		}
	}
	return out;
}

const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toPrecision(12).replace(/\.?0+$/, ""));

export function renderPrometheus(snap: MetricsSnapshot): string {
	const lines: string[] = [];
	for (const name of Object.keys(snap).sort()) {
		const s = snap[name];
		lines.push(`# HELP ${name} ${s.help}`, `# TYPE ${name} ${s.kind}`);
		for (const [k, v] of Object.entries(s.values)) {
			if (s.kind !== "histogram") {
				lines.push(`${name}${k ? `{${k}}` : ""} ${fmt(v as number)}`);
				continue;
			}
			const arr = v as number[];
			const b = s.buckets ?? [];
			const sep = k ? `${k},` : "";
			for (let i = 0; i < b.length; i++) lines.push(`${name}_bucket{${sep}le="${b[i]}"} ${arr[i]}`);
			lines.push(`${name}_bucket{${sep}le="+Inf"} ${arr[b.length + 1]}`);
			lines.push(`${name}_sum${k ? `{${k}}` : ""} ${fmt(arr[b.length])}`);
			lines.push(`${name}_count${k ? `{${k}}` : ""} ${arr[b.length + 1]}`);
		}
	}
	return `${lines.join("\n")}\n`;
}
