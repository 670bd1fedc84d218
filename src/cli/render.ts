/** A column: header and how to read it from a row. */
export type Column<T> = [header: string, read: (row: T) => unknown];

function cell(v: unknown): string {
	if (v === null || v === undefined) return "-";
	if (typeof v === "number") return Number.isInteger(v) ? String(v) : v.toFixed(v < 1 ? 4 : 2);
	if (Array.isArray(v)) return v.join(",");
	if (typeof v === "object") return JSON.stringify(v);
	return String(v);
}

/** A plain-text table, columns padded to their widest cell; "(none)" for no rows. */
export function table<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
	if (rows.length === 0) return "(none)";
	const cells = rows.map((r) => columns.map(([, read]) => cell(read(r))));
	const widths = columns.map(([h], i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? "").length)));
	const line = (parts: string[]) =>
		parts
			.map((p, i) => p.padEnd(widths[i] ?? 0))
			.join("  ")
			.trimEnd();
	return [line(columns.map(([h]) => h.toUpperCase())), ...cells.map(line)].join("\n");
}

/** Field: value lines for one object. */
export function details(obj: Record<string, unknown>): string {
	const width = Math.max(...Object.keys(obj).map((k) => k.length));
	return Object.entries(obj)
		.map(([k, v]) => `${k.padEnd(width)}  ${cell(v)}`)
		.join("\n");
}
