import type { Api } from "./api.ts";

export interface PageContext {
	api: Api;
	/** Path segments after the page's own (`#/keys/key_1` → ["key_1"]). */
	params: string[];
	/** Renders the current page again (after a change). */
	refresh: () => void;
}

/** A page renders to one element whose h1 (tabindex -1) takes the focus. */
export type Page = (ctx: PageContext) => Promise<HTMLElement>;
