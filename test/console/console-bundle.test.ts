import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { CONSOLE_PATH, consoleRoutes } from "../../src/console/console-routes.ts";

/** The console as Bun serves it: one page, hashed assets, cached right, small, same-origin only. */

const BUDGET_GZIP_BYTES = 500 * 1024;
const errors: unknown[] = [];
let first: ReturnType<typeof Bun.serve>;
let second: ReturnType<typeof Bun.serve>;

/** A server like one HTTP worker: the console's routes, anything else 404. */
const serve = () =>
	Bun.serve({
		port: 0,
		development: false,
		routes: consoleRoutes((err) => errors.push(err)),
		fetch: () => new Response("not found", { status: 404 }),
	});

beforeAll(() => {
	first = serve();
	second = serve();
});

afterAll(() => {
	first?.stop(true);
	second?.stop(true);
});

/** What the page loads (the favicon is an inline data: URL, which loads nothing). */
const assetsOf = (html: string) =>
	[...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] as string).filter((u) => !u.startsWith("data:"));

describe("console delivery", () => {
	test("its routes are GETs under /console only: no data-plane path gains or shares a handler", () => {
		const routes = consoleRoutes(() => {});
		expect(Object.keys(routes)).toEqual([CONSOLE_PATH, `${CONSOLE_PATH}/assets/*`]);
		for (const methods of Object.values(routes)) expect(Object.keys(methods)).toEqual(["GET"]);
	});

	test("the page loads only its own bundled assets, under 500 KB gzipped in all", async () => {
		const page = await fetch(`${first.url}console`);
		expect(page.status).toBe(200);
		const html = await page.text();
		const assets = assetsOf(html);
		expect(assets.some((a) => a.endsWith(".js"))).toBe(true);
		expect(assets.some((a) => a.endsWith(".css"))).toBe(true);
		let gzipped = 0;
		for (const a of assets) {
			expect(a.startsWith(`${CONSOLE_PATH}/assets/`)).toBe(true);
			const res = await fetch(new URL(a, first.url), { headers: { "accept-encoding": "identity" } });
			expect(res.status).toBe(200);
			const body = new Uint8Array(await res.arrayBuffer());
			gzipped += Bun.gzipSync(body).length;
			// nothing fetched from elsewhere at run time: no absolute URLs to other hosts in code or styles
			expect(new TextDecoder().decode(body)).not.toMatch(/(?:url\(|import\(|from\s*)["']?https?:\/\//);
		}
		expect(gzipped).toBeGreaterThan(10_000);
		expect(gzipped).toBeLessThan(BUDGET_GZIP_BYTES);
		expect(errors).toEqual([]);
	});

	test("the page is revalidated on every load, the hashed assets are cached for a year, both gzipped on request", async () => {
		const page = await fetch(`${first.url}console`);
		expect(page.headers.get("cache-control")).toBe("no-cache");
		expect(page.headers.get("content-security-policy")).toContain("default-src 'none'");
		expect(page.headers.get("content-security-policy")).toContain("connect-src 'self'");
		const etag = page.headers.get("etag") ?? "";
		expect(etag).not.toBe("");
		const again = await fetch(`${first.url}console`, { headers: { "if-none-match": etag } });
		expect(again.status).toBe(304);
		const [asset] = assetsOf(await page.text());
		const res = await fetch(new URL(asset as string, first.url), {
			headers: { "accept-encoding": "gzip" },
			decompress: false,
		});
		expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
		expect(res.headers.get("content-encoding")).toBe("gzip");
		expect((await fetch(`${first.url}console/assets/nothing-here.js`)).status).toBe(404);
	});

	test("a worker that has not served the page yet serves its assets (several workers share one port)", async () => {
		const html = await (await fetch(`${first.url}console`)).text();
		for (const a of assetsOf(html)) expect((await fetch(new URL(a, second.url))).status).toBe(200);
	});
});
