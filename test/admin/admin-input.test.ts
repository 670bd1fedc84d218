import { beforeAll, describe, expect, test } from "bun:test";
import type { ProviderCatalog } from "../../src/providers/provider-catalog.ts";
import { type AdminTestApp, adminTestApp } from "../support/admin-app.ts";
import { MutationLog } from "../support/audit-trail.ts";
import { useTestDatabase } from "../support/test-database.ts";

/** The admin API checks the token before it reads a body, caps bodies, and fails closed on bad input. */

const TOKEN = "admin-input-token-0123456789";
const t = useTestDatabase();
let app: AdminTestApp["app"];
let catalog: ProviderCatalog;
const mutations = new MutationLog();

beforeAll(async () => {
	({ app, catalog } = await adminTestApp(t.db.sql, TOKEN));
}, 30_000);

// biome-ignore lint/suspicious/noExplicitAny: admin answers are read as loose JSON in tests
async function call<T = Record<string, any>>(method: string, path: string, body?: unknown, token = TOKEN) {
	const res = await app.handle(
		new Request(`http://localhost/admin${path}`, {
			method,
			headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
			body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
		}),
	);
	mutations.note(method, path, res);
	return { status: res.status, json: (await res.json()) as T };
}

async function expectInvalid(method: string, path: string, body: unknown, param: string, words: string[]) {
	const r = await call(method, path, body);
	expect(r.status).toBe(400);
	expect(r.json.error.code).toBe("PLATFORM_INVALID_REQUEST");
	expect(r.json.error.param).toBe(param);
	for (const w of words) expect(r.json.error.message).toContain(w);
	// a sentence, not a serialised validator error
	expect(r.json.error.message).not.toMatch(/[{}]/);
	return r.json.error.message as string;
}

describe("the admin token comes before the body", () => {
	test("an unauthenticated post is refused without reading its body", async () => {
		// a body that never ends: reading it first would hang this request
		const endless = new ReadableStream<Uint8Array>({
			start(c) {
				c.enqueue(new TextEncoder().encode('{"tenant_id":'));
			},
		});
		const res = await app.handle(
			new Request("http://localhost/admin/keys", {
				method: "POST",
				headers: { "content-type": "application/json" },
				body: endless,
			}),
		);
		expect(res.status).toBe(401);
		expect((await res.json()).error.code).toBe("PLATFORM_ADMIN_UNAUTHORIZED");
	});

	test("an unauthenticated caller learns nothing of the schema", async () => {
		const r = await call("POST", "/keys", { rmp: 5 }, "wrong-token");
		expect(r.status).toBe(401);
		expect(JSON.stringify(r.json)).not.toMatch(/rmp|tenant_id|rpm/);
	});

	test("an admin body over 1 MiB is 413, declared or chunked", async () => {
		const big = JSON.stringify({ tenant_id: "t", name: "x".repeat(1024 * 1024) });
		const declared = await call("POST", "/keys", big);
		expect(declared.status).toBe(413);
		expect(declared.json.error.code).toBe("PLATFORM_PAYLOAD_TOO_LARGE");
		const chunked = await app.handle(
			new Request("http://localhost/admin/tenants", {
				method: "POST",
				headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
				body: new Blob([big]).stream(),
			}),
		);
		expect(chunked.status).toBe(413);
	});
});

describe("admin input fails closed", () => {
	test("keys: an unknown field is named, nothing is created", async () => {
		const before = (await t.db.sql`select count(*)::int as n from api_keys`)[0].n;
		const msg = await expectInvalid("POST", "/keys", { tenant_id: "acme", rmp: 5 }, "rmp", ["Unknown field 'rmp'"]);
		expect(msg).toContain("rpm");
		expect((await t.db.sql`select count(*)::int as n from api_keys`)[0].n).toBe(before);
	});

	test("keys: out-of-range limits name the field and the range; PATCH too", async () => {
		await expectInvalid("POST", "/keys", { tenant_id: "acme", tpm: 100_000_000_000 }, "tpm", ["tpm", "2147483647"]);
		await expectInvalid("POST", "/keys", { tenant_id: "acme", budget_usd: 1e15 }, "budget_usd", ["1000000000"]);
		const { json } = await call("POST", "/keys", { tenant_id: "acme", rpm: 1 });
		await expectInvalid("PATCH", `/keys/${json.id}`, { rpm: 2 ** 31 }, "rpm", ["2147483647"]);
		await expectInvalid("PATCH", `/keys/${json.id}`, { quota_daily_tokens: 2 ** 60 }, "quota_daily_tokens", [
			String(Number.MAX_SAFE_INTEGER),
		]);
		// the largest value a column holds is accepted
		expect((await call("PATCH", `/keys/${json.id}`, { tpm: 2_147_483_647 })).json.tpm).toBe(2_147_483_647);
	});

	test("keys: models [] is refused (null means every model)", async () => {
		await expectInvalid("POST", "/keys", { tenant_id: "acme", models: [] }, "models", ["null for every model"]);
		expect((await call("POST", "/keys", { tenant_id: "acme", models: null })).status).toBe(201);
	});

	test("tenants, accounts and prices: unknown fields and ranges", async () => {
		await expectInvalid("POST", "/tenants", { name: "t", rpn: 1 }, "rpn", ["Unknown field 'rpn'"]);
		await expectInvalid("POST", "/tenants", { name: "t", quota_daily_requests: 3e9 }, "quota_daily_requests", [
			"2147483647",
		]);
		await expectInvalid(
			"POST",
			"/providers",
			{
				name: "p1",
				base_url: "http://127.0.0.1:9/v1",
				models: ["m"],
				accounts: [{ name: "a", api_key: "k", wieght: 2 }],
			},
			"accounts[0].wieght",
			["Unknown field 'accounts[0].wieght'", "weight"],
		);
		await expectInvalid(
			"POST",
			"/providers",
			{ name: "p1", models: ["m"], accounts: [{ name: "a", api_key: "k", max_concurrency: 1e10 }] },
			"accounts[0].max_concurrency",
			["2147483647"],
		);
		await expectInvalid("POST", "/providers", { name: "p1", models: ["m"], modles: [] }, "modles", ["Unknown field"]);
		await expectInvalid("PUT", "/prices/m", { input: 1, output: 1, cached: 1 }, "cached", ["Unknown field 'cached'"]);
		await expectInvalid("PUT", "/prices/m", { input: 1 }, "output", ["'output' is required"]);
	});
});

describe("provider headers", () => {
	test("work on the configured database, are sealed at rest, masked in views, plain on the wire", async () => {
		const secret = "Bearer hdr-SECRET-value-42";
		const created = await call("POST", "/providers", {
			name: "hdr",
			base_url: "http://127.0.0.1:9/v1",
			models: ["hdr-model"],
			headers: { "X-Org-Token": secret },
			accounts: [{ name: "a", api_key: "sk-hdr-account-key" }],
		});
		expect(created.status).toBe(201);
		expect(JSON.stringify(created.json)).not.toContain("SECRET");
		expect(created.json.headers["X-Org-Token"]).toBe("…e-42");
		const [row] = await t.db.sql`select headers::text as h from providers where name = 'hdr'`;
		expect(row.h).not.toContain("SECRET");
		expect(row.h).toContain("v1:");
		expect(catalog.current().providers.get("hdr")?.headers["X-Org-Token"]).toBe(secret);
		const patched = await call("PATCH", "/providers/hdr", { headers: { "X-Other": "other-SECRET-1" } });
		expect(patched.status).toBe(200);
		expect(catalog.current().providers.get("hdr")?.headers["X-Other"]).toBe("other-SECRET-1");
		await expectInvalid("PATCH", "/providers/hdr", { headers: { "bad header": "v" } }, "headers", ["header names"]);
	});
});

describe("admin audit trail", () => {
	// after every other test of this file: refused input left no entry, changes one each, masked
	test("every admin change made above appears in /admin/audit once, secrets masked", async () => {
		await mutations.expectAudited(
			async (cursor) => (await call("GET", `/audit?limit=500${cursor ? `&cursor=${cursor}` : ""}`)).json as never,
			["hdr-SECRET-value-42", "other-SECRET-1", "sk-hdr-account-key"],
		);
	});
});
