/** A small element builder: the console has no framework, only the DOM. */
export type Child = Node | string | number | null | undefined | false | Child[];
type AttrValue = string | number | boolean | null | undefined | ((e: Event) => void);

export function h<K extends keyof HTMLElementTagNameMap>(
	tag: K,
	attrs?: Record<string, AttrValue> | null,
	...children: Child[]
): HTMLElementTagNameMap[K] {
	const el = document.createElement(tag);
	for (const [name, value] of Object.entries(attrs ?? {})) {
		if (typeof value === "function") el.addEventListener(name.slice(2), value);
		else if (value === true) el.setAttribute(name, "");
		else if (value !== false && value !== null && value !== undefined) el.setAttribute(name, String(value));
	}
	append(el, children);
	return el;
}

function append(el: Element, children: Child[]): void {
	for (const c of children) {
		if (Array.isArray(c)) append(el, c);
		else if (c instanceof Node) el.append(c);
		else if (c !== null && c !== undefined && c !== false) el.append(String(c));
	}
}

let ids = 0;
/** A unique id for label/input and aria pairs. */
export const uid = (prefix: string) => `${prefix}-${++ids}`;

const int = new Intl.NumberFormat("en-US");
export const fmtInt = (n: number | null | undefined) => (n === null || n === undefined ? "—" : int.format(n));
export function fmtUsd(n: number | null | undefined): string {
	if (n === null || n === undefined) return "—";
	if (n !== 0 && Math.abs(n) < 0.01) return `$${n.toPrecision(2)}`;
	return `$${n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}
export const fmtMs = (n: number | null | undefined) =>
	n === null || n === undefined ? "—" : `${int.format(Math.round(n))} ms`;
export function fmtTime(iso: string | null | undefined): string {
	if (!iso) return "—";
	const d = new Date(iso);
	return Number.isNaN(d.getTime()) ? iso : d.toISOString().replace("T", " ").slice(0, 19);
}
export const fmtLimit = (n: number | null | undefined) => (n === null || n === undefined ? "none" : int.format(n));

export interface Column<R> {
	label: string;
	/** Right-aligned, tabular figures. */
	num?: boolean;
	cell: (row: R) => Child;
}

/** A table with a caption and column headers; wide tables scroll inside their box. */
export function table<R>(caption: string, columns: Column<R>[], rows: R[], empty = "Nothing yet."): HTMLElement {
	const body = rows.length
		? rows.map((r) =>
				h(
					"tr",
					null,
					columns.map((c) => h("td", { class: c.num ? "num" : null }, c.cell(r))),
				),
			)
		: [h("tr", null, h("td", { colspan: columns.length, class: "muted" }, empty))];
	return h(
		"div",
		{ class: "table-wrap" },
		h(
			"table",
			null,
			h("caption", null, caption),
			h(
				"thead",
				null,
				h(
					"tr",
					null,
					columns.map((c) => h("th", { scope: "col", class: c.num ? "num" : null }, c.label)),
				),
			),
			h("tbody", null, body),
		),
	);
}

export function badge(text: string, kind = text): HTMLElement {
	return h("span", { class: `badge ${kind}` }, text);
}

/** A definition list of label → value. */
export function facts(pairs: [string, Child][]): HTMLElement {
	return h(
		"dl",
		{ class: "facts" },
		pairs.map(([k, v]) => [h("dt", null, k), h("dd", null, v)]),
	);
}

export const json = (v: unknown) => h("pre", null, typeof v === "string" ? v : JSON.stringify(v, null, 2));

/** A page's heading; it takes the focus after navigation, so it is focusable by script only. */
export const title = (text: string) => h("h1", { tabindex: -1 }, text);

/** Runs an action from a button, showing a failure next to it. */
export function action(
	label: string,
	run: () => Promise<void>,
	opts: { danger?: boolean; confirm?: string; name?: string } = {},
): HTMLButtonElement {
	const b = h(
		"button",
		{ type: "button", class: opts.danger ? "danger" : null, "aria-label": opts.name ?? null },
		label,
	);
	b.addEventListener("click", async () => {
		if (opts.confirm && !window.confirm(opts.confirm)) return;
		b.disabled = true;
		try {
			await run();
		} catch (err) {
			const msg = (err as { describe?: () => string }).describe?.() ?? String((err as Error).message ?? err);
			b.after(h("span", { class: "notice error", role: "alert" }, msg));
		} finally {
			b.disabled = false;
		}
	});
	return b;
}
