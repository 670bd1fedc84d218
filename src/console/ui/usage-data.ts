/** Rows of GET /admin/usage, and how the console turns them into time series. */
export interface UsageRow {
	bucket?: string;
	key_id?: string | null;
	tenant_id?: string | null;
	model?: string | null;
	provider?: string | null;
	account?: string | null;
	status?: number | null;
	requests: number;
	errors: number;
	unpriced_requests: number;
	prompt_tokens: number;
	completion_tokens: number;
	total_tokens: number;
	cost_usd: number | null;
	latency_ms_p50: number | null;
	latency_ms_p95: number | null;
	latency_ms_p99: number | null;
	ttft_ms_p50: number | null;
	ttft_ms_p95: number | null;
	ttft_ms_p99: number | null;
}

export interface UsageAnswer {
	group_by: string[];
	since: string | null;
	until: string | null;
	columns: string[];
	truncated: boolean;
	data: UsageRow[];
}

export type Bucket = "minute" | "hour" | "day";
export const BUCKET_MS: Record<Bucket, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

export interface Range {
	id: string;
	label: string;
	bucket: Bucket;
	count: number;
}

/** The overview's windows: the last hour by minute, the last day by hour, 30 days by day. */
export const RANGES: Range[] = [
	{ id: "1h", label: "Last hour", bucket: "minute", count: 60 },
	{ id: "24h", label: "Last day", bucket: "hour", count: 24 },
	{ id: "30d", label: "30 days", bucket: "day", count: 30 },
];

/** The bucket starts (UTC, ms) of a range ending with the current bucket. */
export function bucketStarts(range: Range, now = Date.now()): number[] {
	const size = BUCKET_MS[range.bucket];
	const last = Math.floor(now / size) * size;
	return Array.from({ length: range.count }, (_, i) => last - (range.count - 1 - i) * size);
}

/** One value per bucket start; buckets without rows are 0 for counts and null (a gap) for latencies. */
export function alignToBuckets(
	starts: number[],
	rows: UsageRow[],
	value: (r: UsageRow) => number | null,
	empty: 0 | null,
): (number | null)[] {
	const byStart = new Map(rows.map((r) => [Date.parse(r.bucket ?? ""), r]));
	return starts.map((s) => {
		const r = byStart.get(s);
		return r ? value(r) : empty;
	});
}

/** The label of a row's value in one dimension. */
export function dimensionValue(row: UsageRow, dim: string): string {
	switch (dim) {
		case "key":
			return row.key_id ?? "(none)";
		case "tenant":
			return row.tenant_id ?? "(none)";
		case "account":
			return `${row.provider ?? "?"}/${row.account ?? "?"}`;
		case "minute":
		case "hour":
		case "day":
			return row.bucket ?? "";
		default:
			return String((row as unknown as Record<string, unknown>)[dim] ?? "(none)");
	}
}
