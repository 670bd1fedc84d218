/**
 * RFC 4180 CSV with a header row. A text cell a spreadsheet would run as a formula (starting
 * with =, +, - or @: model and key names come from clients) gets a leading apostrophe.
 */
export function toCsv(columns: readonly string[], rows: readonly Record<string, unknown>[]): string {
	const lines = [columns.map(cell).join(",")];
	for (const r of rows) lines.push(columns.map((c) => cell(r[c])).join(","));
	return `${lines.join("\r\n")}\r\n`;
}

function cell(v: unknown): string {
	if (v === null || v === undefined) return "";
	if (typeof v !== "string") return String(v);
	const s = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
	return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}
