import { Api } from "./api.ts";
import { h } from "./dom.ts";
import { errorNotice } from "./forms.ts";
import type { Page } from "./page.ts";
import { accessPage } from "./pages/access.ts";
import { alertsPage } from "./pages/alerts.ts";
import { auditPage } from "./pages/audit.ts";
import { keyPage, keysPage } from "./pages/keys.ts";
import { logPage, logsPage } from "./pages/logs.ts";
import { modelGroupsPage } from "./pages/model-groups.ts";
import { overviewPage } from "./pages/overview.ts";
import { pricesPage } from "./pages/prices.ts";
import { providersPage } from "./pages/providers.ts";
import { tenantsPage } from "./pages/tenants.ts";
import { usagePage } from "./pages/usage.ts";

/** Hash routes (`#/keys/key_…`): the gateway serves one page, and nothing here reaches the server's router. */
const PAGES: { path: string; label: string; page: Page; detail?: Page }[] = [
	{ path: "overview", label: "Overview", page: overviewPage },
	{ path: "usage", label: "Usage explorer", page: usagePage },
	{ path: "keys", label: "Keys", page: keysPage, detail: keyPage },
	{ path: "tenants", label: "Tenants", page: tenantsPage },
	{ path: "providers", label: "Providers", page: providersPage },
	{ path: "prices", label: "Prices", page: pricesPage },
	{ path: "model-groups", label: "Model groups", page: modelGroupsPage },
	{ path: "alerts", label: "Alerts", page: alertsPage },
	{ path: "logs", label: "Request logs", page: logsPage, detail: logPage },
	{ path: "audit", label: "Audit log", page: auditPage },
	{ path: "access", label: "Sessions & admin keys", page: accessPage },
];

const api = new Api();
const root = document.getElementById("app") as HTMLElement;

function loginScreen(message?: string): void {
	const input = h("input", { id: "token", name: "token", type: "password", autocomplete: "off", required: true });
	const status = h("div", { role: "status" }, message ? errorNotice(message) : null);
	const form = h(
		"form",
		{ "aria-label": "Log in" },
		h(
			"div",
			{ class: "field" },
			h("label", { for: "token" }, "Admin token or session token"),
			input,
			h("span", { class: "help" }, "Or open the one-time link that `ix console` prints."),
		),
		h("button", { type: "submit", class: "primary" }, "Log in"),
		status,
	);
	form.addEventListener("submit", async (e) => {
		e.preventDefault();
		api.token = input.value.trim();
		try {
			await api.get("/sessions");
			if (!location.hash.startsWith("#/")) location.hash = "#/overview";
			shell();
		} catch (err) {
			api.token = null;
			status.replaceChildren(errorNotice(err));
		}
	});
	root.replaceChildren(h("main", { class: "login" }, h("h1", null, "Interchange console"), form));
	input.focus();
}

/** `#code=…` from `ix console`: traded once for a session, then dropped from the address and history. */
async function redeemLink(code: string): Promise<void> {
	history.replaceState(null, "", `${location.pathname}#/overview`);
	try {
		const s = await api.call<{ token: string }>("POST", "/auth/console-session", { code });
		api.token = s.token;
		shell();
	} catch (err) {
		loginScreen((err as Error & { describe?: () => string }).describe?.() ?? String(err));
	}
}

async function logout(): Promise<void> {
	if (api.isSession) await api.call("POST", "/auth/logout").catch(() => {});
	api.token = null;
	history.replaceState(null, "", location.pathname);
	loginScreen();
}

let main: HTMLElement | null = null;
function skipToContent(e: Event): void {
	e.preventDefault();
	main?.focus();
}
let nav: HTMLElement | null = null;

function shell(): void {
	main = h("main", { id: "main", tabindex: -1 });
	nav = h(
		"nav",
		{ class: "sidebar", "aria-label": "Console" },
		h(
			"ul",
			null,
			PAGES.map((p) => h("li", null, h("a", { href: `#/${p.path}`, "data-page": p.path }, p.label))),
		),
	);
	const who = api.isSession ? "Session" : "Admin token";
	root.replaceChildren(
		h("a", { href: "#main", class: "skip-link", onclick: skipToContent }, "Skip to content"),
		h(
			"div",
			{ class: "shell" },
			h(
				"header",
				{ class: "topbar" },
				h("span", { class: "brand" }, "Interchange"),
				h(
					"div",
					{ class: "who" },
					h("span", { class: "identity" }, `Signed in with: ${who}`),
					h("button", { type: "button", onclick: () => void logout() }, "Log out"),
				),
			),
			nav,
			main,
		),
	);
	void route();
}

let rendering = 0;
async function route(): Promise<void> {
	if (!main || !nav) return;
	const [path = "overview", ...rest] = location.hash.replace(/^#\/?/, "").split("/");
	const entry = PAGES.find((p) => p.path === path) ?? (PAGES[0] as (typeof PAGES)[number]);
	for (const a of nav.querySelectorAll("a")) {
		if (a.dataset.page === entry.path) a.setAttribute("aria-current", "page");
		else a.removeAttribute("aria-current");
	}
	const page = rest.length && entry.detail ? entry.detail : entry.page;
	const mine = ++rendering;
	main.setAttribute("aria-busy", "true");
	let content: Node;
	try {
		content = await page({ api, params: rest.map(decodeURIComponent), refresh: () => void route() });
	} catch (err) {
		content = h("div", null, h("h1", { tabindex: -1 }, entry.label), errorNotice(err));
	}
	if (mine !== rendering || !main) return;
	main.replaceChildren(content);
	main.setAttribute("aria-busy", "false");
	document.title = `${main.querySelector("h1")?.textContent ?? entry.label} · Interchange console`;
	main.querySelector<HTMLElement>("h1")?.focus();
}

api.onUnauthorized = (message) => {
	api.token = null;
	loginScreen(message);
};
window.addEventListener("hashchange", () => {
	if (location.hash.startsWith("#code=")) void redeemLink(decodeURIComponent(location.hash.slice(6)));
	else if (api.token) void route();
});

if (location.hash.startsWith("#code=")) void redeemLink(decodeURIComponent(location.hash.slice(6)));
else if (api.token) shell();
else loginScreen();
