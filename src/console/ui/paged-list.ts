import type { Api, Query } from "./api.ts";
import { type Column, h, table, title } from "./dom.ts";
import { apiForm, type FieldSpec } from "./forms.ts";

export interface PagedListOptions<R> {
	api: Api;
	/** Under /admin, answering `{data, next_cursor}` newest first. */
	path: string;
	heading: string;
	filterLabel: string;
	filters: FieldSpec[];
	caption: string;
	columns: Column<R>[];
	empty: string;
}

/** A filtered, newest-first list read page by page through the API's keyset cursor. */
export async function pagedList<R>(o: PagedListOptions<R>): Promise<HTMLElement> {
	const rows: R[] = [];
	const list = h("div");
	const more = h("button", { type: "button", hidden: true }, "Load older");
	let query: Query = {};
	let cursor: string | null = null;
	const load = async (append: boolean) => {
		const page = await o.api.get<{ data: R[]; next_cursor: string | null }>(o.path, {
			...query,
			limit: 50,
			cursor: append ? cursor : null,
		});
		if (!append) rows.length = 0;
		rows.push(...page.data);
		cursor = page.next_cursor;
		more.hidden = cursor === null;
		list.replaceChildren(table(o.caption, o.columns, rows, o.empty));
	};
	more.addEventListener("click", () => void load(true));
	await load(false);
	return h(
		"div",
		null,
		title(o.heading),
		h(
			"div",
			{ class: "panel" },
			apiForm({
				label: o.filterLabel,
				specs: o.filters,
				mode: "create",
				submit: "Apply filters",
				onSubmit: async (body) => {
					query = body as Query;
					await load(false);
				},
			}),
		),
		list,
		more,
	);
}
