import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import OpenAI from "openai";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { type GatewayServer, startGatewayServer } from "../support/gateway-server.ts";
import { type MockUpstream, startMockUpstream } from "../support/mock-upstream.ts";
import { waitFor } from "../support/wait-for.ts";

/**
 * The web console in real headless Chromium against the real gateway (two workers, so the
 * page and its assets may come from different threads) and the mock upstream. Screenshots of
 * every page go to artifacts/console/ (not committed).
 */

/** The page's globals that callbacks run in the browser use (this file compiles without the DOM library). */
declare const document: {
	querySelector(selector: string): unknown;
	querySelectorAll(selector: string): Iterable<{ textContent: string | null }>;
};

const ADMIN = "e2e-console-admin-token-0123456789";
const CHROMIUM = "/usr/bin/chromium";
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium)
	console.log(
		`console browser test: no Chromium at ${CHROMIUM} (apt-get install chromium; .ci/run does), so it is skipped`,
	);
const SHOTS = join(import.meta.dir, "..", "..", "artifacts", "console");
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844, isMobile: true, hasTouch: true };

let mock: MockUpstream;
let gw: GatewayServer;
let browser: Browser;
/** Every URL the browser asked for: the console must load nothing from elsewhere. */
const requested: string[] = [];

beforeAll(async () => {
	if (!hasChromium) return;
	mkdirSync(SHOTS, { recursive: true });
	mock = await startMockUpstream();
	gw = await startGatewayServer({
		workers: 2,
		env: {
			OPENAI_BASE_URL: `${mock.url}/v1`,
			OPENAI_API_KEY: "sk-config-upstream",
			OPENAI_MODELS: "gpt-4o-mini,gpt-4o",
			GATEWAY_ADMIN_TOKEN: ADMIN,
			GATEWAY_ENCRYPTION_KEY: "c".repeat(64),
			LOG_LEVEL: "warn",
		},
	});
	browser = await puppeteer.launch({
		executablePath: CHROMIUM,
		headless: true,
		args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
	});
}, 60_000);

afterAll(async () => {
	await browser?.close();
	await gw?.cleanup();
	await mock?.stop();
}, 30_000);

async function admin<T>(method: string, path: string, body?: unknown): Promise<T> {
	const res = await fetch(`${gw.url}/admin${path}`, {
		method,
		headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${await res.text()}`);
	return (await res.json()) as T;
}

async function newPage(viewport = DESKTOP): Promise<{ page: Page; problems: string[] }> {
	const context = await browser.createBrowserContext();
	const page = await context.newPage();
	await page.setViewport(viewport);
	const problems: string[] = [];
	page.on("request", (r) => requested.push(r.url()));
	page.on("pageerror", (e) => problems.push(String(e)));
	page.on("console", (m) => {
		if (m.type() === "error" && !m.text().includes("401")) problems.push(m.text());
	});
	page.on("dialog", (d) => void d.accept());
	return { page, problems };
}

/** Navigates inside the console and waits until the page's heading says it is there. */
async function open(page: Page, hash: string, heading: string): Promise<void> {
	await page.evaluate(`location.hash = ${JSON.stringify(hash)}`);
	await waitForText(page, "main h1", heading);
	await page.waitForFunction(() => !document.querySelector("[aria-busy='true']"), { timeout: 10_000 });
}

const waitForText = (page: Page, selector: string, text: string) =>
	page.waitForFunction(
		(s, t) => [...document.querySelectorAll(s)].some((e) => e.textContent?.includes(t)),
		{ timeout: 10_000 },
		selector,
		text,
	);

const stat = (page: Page, label: string) => page.$eval(`[data-stat="${label}"] .value`, (e) => e.textContent ?? "");

async function shot(page: Page, name: string): Promise<void> {
	await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

async function logIn(page: Page): Promise<void> {
	await page.goto(`${gw.url}/console`);
	await page.waitForSelector("#token");
	await page.type("#token", ADMIN);
	await page.click("form[aria-label='Log in'] button[type=submit]");
	await waitForText(page, "main h1", "Overview");
}

describe.skipIf(!hasChromium)("the web console in Chromium", () => {
	test("admin token: create a key with limits (shown once), traffic shows on the overview and the key, revoke, audit", async () => {
		const { page, problems } = await newPage();
		await logIn(page);
		await shot(page, "login-overview-empty");

		// create a key with every limit
		await open(page, "#/keys", "Keys");
		await page.click("details.panel > summary");
		const form = "form[aria-label='Create a key']";
		const fill = async (name: string, value: string) => page.type(`${form} [name='${name}']`, value);
		await fill("tenant_id", "browser-co");
		await fill("name", "browser-key");
		await fill("models", "gpt-4o-mini, gpt-4o");
		await fill("rpm", "600");
		await fill("tpm", "100000");
		await fill("max_concurrency", "4");
		await fill("quota_daily_requests", "1000");
		await fill("quota_daily_tokens", "1000000");
		await fill("budget_usd", "25");
		await page.select(`${form} [name='budget_period']`, "month");
		await page.select(`${form} [name='log_bodies']`, "all");
		await page.click(`${form} button[type=submit]`);
		await page.waitForSelector("#new-key");
		const fullKey = await page.$eval("#new-key", (e) => (e as unknown as { value: string }).value);
		expect(fullKey).toMatch(/^sk-ix-/);
		await shot(page, "keys-created");

		const keys = await admin<{ data: { id: string; name: string }[] }>("GET", "/keys");
		const keyId = keys.data.find((k) => k.name === "browser-key")?.id ?? "";
		expect(await admin("GET", `/keys/${keyId}`)).toMatchObject({
			tenant_id: "browser-co",
			models: ["gpt-4o-mini", "gpt-4o"],
			rpm: 600,
			tpm: 100000,
			max_concurrency: 4,
			quota_daily_requests: 1000,
			quota_daily_tokens: 1000000,
			budget_usd: 25,
			budget_period: "month",
			log_bodies: "all",
		});

		// shown once: gone after "Done", and nowhere on the list or the key's page after that
		await page.click(".secret-once button.primary");
		expect(await page.$("#new-key")).toBeNull();
		await page.reload();
		await waitForText(page, "main h1", "Keys");
		expect(await page.content()).not.toContain(fullKey);
		await open(page, `#/keys/${keyId}`, "Key browser-key");
		expect(await page.content()).not.toContain(fullKey);
		expect(JSON.stringify(await admin("GET", `/keys/${keyId}`))).not.toContain(fullKey);

		// traffic through the gateway with the new key
		const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: fullKey, maxRetries: 0 });
		for (let i = 0; i < 3; i++)
			await client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: `hi ${i}` }] });
		const stream = await client.chat.completions.create({
			model: "gpt-4o",
			stream: true,
			messages: [{ role: "user", content: "stream please" }],
		});
		for await (const _ of stream);
		let spend = 0;
		await waitFor(
			async () => {
				const u = await admin<{ data: { requests: number; cost_usd: number | null }[] }>(
					"GET",
					`/usage?key_id=${keyId}`,
				);
				spend = u.data[0]?.cost_usd ?? 0;
				return u.data[0]?.requests === 4;
			},
			{ timeoutMs: 15_000, what: "the key's 4 requests in /admin/usage" },
		);
		expect(spend).toBeGreaterThan(0);
		const spendText = `$${spend.toPrecision(2)}`;

		// the overview: totals, the charts' data, the top keys
		await open(page, "#/overview", "Overview");
		expect(await stat(page, "Requests")).toBe("4");
		expect(await stat(page, "Spend")).toBe(spendText);
		await page.waitForSelector("figure.chart .uplot canvas");
		const chartData = await page.$$eval("figure.chart", (figs) =>
			figs.map((f) => ({
				title: f.querySelector("figcaption")?.textContent,
				cells: [...f.querySelectorAll("tbody td")].map((td) => td.textContent),
			})),
		);
		const requestsChart = chartData.find((c) => c.title === "Requests per second");
		const spendChart = chartData.find((c) => c.title === "Spend (USD)");
		expect(requestsChart?.cells).toContain((4 / 60).toPrecision(2));
		expect(spendChart?.cells).toContain(spendText);
		await waitForText(page, "table caption", "Top keys");
		expect(await page.$eval(`a[href='#/keys/${keyId}']`, (a) => a.textContent)).toBe("browser-key");
		await shot(page, "overview");

		// the key's own usage
		await open(page, `#/keys/${keyId}`, "Key browser-key");
		await page.waitForSelector("[data-stat='Requests']");
		expect(await stat(page, "Requests")).toBe("4");
		expect(await stat(page, "Spend")).toBe(spendText);
		await shot(page, "key-detail");

		// edit a limit: the form holds the key's values, an emptied field lifts that limit
		const edit = "form[aria-label='Edit the key']";
		expect(await page.$eval(`${edit} [name='rpm']`, (e) => (e as unknown as { value: string }).value)).toBe("600");
		await page.$eval(`${edit} [name='rpm']`, (e) => {
			(e as unknown as { value: string }).value = "";
		});
		await page.click(`${edit} [name='tpm']`, { count: 3 });
		await page.type(`${edit} [name='tpm']`, "5000");
		await page.click(`${edit} button[type=submit]`);
		await waitFor(async () => (await admin<{ tpm: number }>("GET", `/keys/${keyId}`)).tpm === 5000, {
			what: "the edited tpm",
		});
		expect(await admin("GET", `/keys/${keyId}`)).toMatchObject({ rpm: null, tpm: 5000, max_concurrency: 4 });
		// the page shows the change once it has rendered again
		await waitForText(page, "dl.facts", "5,000 tpm");
		await page.waitForFunction(() => !document.querySelector("[aria-busy='true']"), { timeout: 10_000 });

		// revoke it: the gateway refuses it, the audit log shows it
		await page.click("main button.danger");
		await waitForText(page, ".badge", "revoked");
		const refused = await client.chat.completions
			.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "still there?" }] })
			.then(
				() => null,
				(e: { status?: number }) => e.status,
			);
		expect(refused).toBe(401);
		await open(page, "#/audit", "Audit log");
		const audit = await page.$$eval("main tbody tr", (rows) =>
			rows.map((r) => [...r.querySelectorAll("td")].map((td) => td.textContent ?? "")),
		);
		expect(audit.some((r) => r[2] === "key.revoke" && r[3] === `key:${keyId}` && r[1] === "token")).toBe(true);
		expect(audit.some((r) => r[2] === "key.create" && r[3] === `key:${keyId}`)).toBe(true);
		// the audit entry masks the key
		expect(await page.content()).not.toContain(fullKey);
		await shot(page, "audit");

		// every other page renders, at desktop and phone width
		const pages: [string, string][] = [
			["#/usage", "Usage explorer"],
			["#/tenants", "Tenants"],
			["#/providers", "Providers and accounts"],
			["#/prices", "Prices"],
			["#/model-groups", "Model groups"],
			["#/alerts", "Alerts"],
			["#/logs", "Request logs"],
			["#/access", "Sessions and admin keys"],
		];
		for (const [hash, heading] of pages) {
			await open(page, hash, heading);
			await shot(page, hash.slice(2));
		}
		await waitForText(page, "caption", "Admin sessions");
		// the streamed request, found with the log filters; its bodies were kept (log_bodies: all)
		let streamed = "";
		await waitFor(
			async () => {
				const rows = (await admin<{ data: { request_id: string }[] }>("GET", `/logs?key_id=${keyId}&model=gpt-4o`))
					.data;
				streamed = rows[0]?.request_id ?? "";
				return (
					streamed !== "" && (await admin<{ request_body: unknown }>("GET", `/logs/${streamed}`)).request_body !== null
				);
			},
			{ timeoutMs: 15_000, what: "the streamed request's logged body" },
		);
		await open(page, "#/logs", "Request logs");
		await page.type("form[aria-label='Filter requests'] [name='model']", "gpt-4o");
		await page.click("form[aria-label='Filter requests'] button[type=submit]");
		await page.waitForFunction("document.querySelectorAll('main tbody tr').length === 1", { timeout: 10_000 });
		await page.click(`main tbody a[href='#/logs/${streamed}']`);
		await waitForText(page, "main h1", `Request ${streamed}`);
		await waitForText(page, "main pre", "stream please");
		await shot(page, "log-detail");

		await page.setViewport(PHONE);
		for (const [hash, heading] of [
			["#/overview", "Overview"],
			["#/keys", "Keys"],
			["#/providers", "Providers and accounts"],
		] as const) {
			await open(page, hash, heading);
			// nothing wider than the phone's screen but the boxes that scroll on their own
			const overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth");
			expect(overflow).toBeLessThanOrEqual(0);
			await shot(page, `phone-${hash.slice(2)}`);
		}
		expect(problems).toEqual([]);
		expect(requested.filter((u) => !u.startsWith(gw.url) && !u.startsWith("data:"))).toEqual([]);
	}, 60_000);

	test("a one-time link from the API logs in once, and logging out ends that session", async () => {
		const link = await admin<{ url: string }>("POST", "/auth/console-link");
		expect(link.url).toStartWith(`${gw.url}/console#code=`);
		const { page } = await newPage();
		await page.goto(link.url);
		await waitForText(page, "main h1", "Overview");
		expect(await page.evaluate(() => location.hash)).toBe("#/overview");
		const token = await page.evaluate(() => sessionStorage.getItem("interchange.console.token"));
		expect(token).toStartWith("ixs_");
		await waitForText(page, ".topbar", "Session");

		// the same link again is refused, with the API's words
		const second = (await newPage()).page;
		await second.goto(link.url);
		await waitForText(second, "[role=alert]", "already used");
		await shot(second, "login-link-reused");

		await page.click(".topbar button");
		await page.waitForSelector("#token");
		expect(await page.evaluate(() => sessionStorage.getItem("interchange.console.token"))).toBeNull();
		const sessions = await admin<{ data: { revoked_at: string | null }[] }>("GET", "/sessions?include_inactive=true");
		expect(sessions.data.length).toBe(1);
		expect(sessions.data[0]?.revoked_at).not.toBeNull();
		const refused = await fetch(`${gw.url}/admin/keys`, { headers: { authorization: `Bearer ${token}` } });
		expect(refused.status).toBe(401);
	}, 30_000);
});
