/** Turns benchmark rows into a table for stdout. */
import type { LoadResult } from "./load-types.ts";

export interface BenchRow {
	scenario: string;
	target: string;
	result: LoadResult;
}

/**
 * Variant / baseline measured round by round (a[i] against b[i]; rounds where either side is
 * missing or the baseline is 0 are left out): the median and the lowest and highest round.
 * Both sides of a round run within a minute, so the box's drift cancels out of each ratio.
 */
export function perRoundRatio(
	a: readonly number[],
	b: readonly number[],
): { median: number; min: number; max: number } | null {
	const r = a.flatMap((x, i) => (b[i] ? [x / b[i]] : [])).sort((p, q) => p - q);
	if (r.length === 0) return null;
	return { median: r[Math.floor(r.length / 2)], min: r[0], max: r[r.length - 1] };
}

export interface Ratio {
	scenario: string;
	/** Which gateway target. */
	target: string;
	/** gateway rps / pass-through rps (1.0 = as fast as the bare proxy). */
	rps: number;
	/** gateway p50 / pass-through p50. */
	p50: number;
	p99: number;
}

function pad(s: string, n: number, right = false): string {
	return right ? s.padStart(n) : s.padEnd(n);
}

export function formatTable(rows: BenchRow[], ratios: Ratio[]): string {
	const head = ["scenario", "target", "req/s", "p50 ms", "p90 ms", "p99 ms", "ttfb p50", "errors", "requests"];
	const widths = [20, 13, 10, 8, 8, 8, 9, 7, 9];
	const line = (cells: string[]) => cells.map((c, i) => pad(c, widths[i], i >= 2)).join("  ");
	const out = [line(head), widths.map((w) => "-".repeat(w)).join("  ")];
	for (const r of rows) {
		const x = r.result;
		out.push(
			line([
				r.scenario,
				r.target,
				x.rps.toFixed(0),
				x.p50.toFixed(2),
				x.p90.toFixed(2),
				x.p99.toFixed(2),
				x.ttfbP50.toFixed(2),
				String(x.errors),
				String(x.requests),
			]),
		);
	}
	if (ratios.length > 0) {
		out.push("", "gateway / pass-through:");
		for (const r of ratios) {
			out.push(
				`  ${pad(r.scenario, 20)}  ${pad(r.target, 13)}  req/s x${r.rps.toFixed(2)}   p50 x${r.p50.toFixed(2)}   p99 x${r.p99.toFixed(2)}`,
			);
		}
	}
	const samples = rows.filter((r) => r.result.errorSamples.length > 0);
	if (samples.length > 0) {
		out.push("", "error samples:");
		for (const r of samples) out.push(`  ${r.scenario} / ${r.target}: ${r.result.errorSamples.join(" | ")}`);
	}
	return out.join("\n");
}
