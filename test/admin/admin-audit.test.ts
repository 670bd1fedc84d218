import { beforeAll, describe, expect, test } from "bun:test";
import { type AdminTestApp, adminTestApp } from "../support/admin-app.ts";
import { useTestDatabase } from "../support/test-database.ts";

/** /admin/audit: every admin change, who made it, before and after with secrets masked. */

const TOKEN = "admin-audit-token-0123456789";
const ACCOUNT_KEY = "sk-upstream-AUDITSECRET-1a2b3c4d";
const ROTATED_KEY = "sk-upstream-ROTATEDSECRET-9z8y7x";
const HEADER_SECRET = "org-HEADERSECRET-5e6f7a8b";
const t = useTestDatabase();
let admin: AdminTestApp;
let proxied: AdminTestApp;

beforeAll(async () => {
	admin = await adminTestApp(t.db.sql, TOKEN, {
		file: {
			providers: [
				{ name: "cfg", type: "openai", base_url: "http://127.0.0.1:9/v1", models: ["c"], api_key: "sk-cfg-1234567890" },
			],
		},
	});
	proxied = await adminTestApp(t.db.sql, TOKEN, { trustProxy: true });
}, 30_000);

// biome-ignore lint/suspicious/noExplicitAny: audit entries are read as loose JSON in tests
type Entry = Record<string, any>;
const entries = async (qs = ""): Promise<Entry[]> => {
	const r = await admin.call("GET", `/audit?limit=500${qs ? `&${qs}` : ""}`);
	expect(r.status).toBe(200);
	return r.json.data;
};
const byRequest = async (requestId: string | null) => (await entries()).filter((e) => e.request_id === requestId);

describe("admin audit trail", () => {
	let keyId = "";
	let fullKey = "";

	test("key create, update, revoke: actor, target, before/after; the client key is never stored", async () => {
		const created = await admin.call("POST", "/keys", { body: { tenant_id: "aud", name: "k", rpm: 5 } });
		expect(created.status).toBe(201);
		keyId = created.json.id;
		fullKey = created.json.key;
		const [c] = await byRequest(created.headers.get("x-request-id"));
		expect(c).toMatchObject({
			object: "admin_audit_entry",
			actor: "token",
			actor_fingerprint: null,
			action: "key.create",
			target: { type: "key", id: keyId },
			before: null,
			client_address: null,
		});
		expect(c.after).toMatchObject({ id: keyId, rpm: 5, tenant_id: "aud" });
		expect(c.after.key).not.toBe(fullKey);
		expect(c.after.key).toMatch(/^sk-…/);

		const patched = await admin.call("PATCH", `/keys/${keyId}`, { body: { rpm: 9 } });
		const [u] = await byRequest(patched.headers.get("x-request-id"));
		expect(u).toMatchObject({ action: "key.update", before: { rpm: 5 }, after: { rpm: 9 } });
		const revoked = await admin.call("DELETE", `/keys/${keyId}`);
		const [r] = await byRequest(revoked.headers.get("x-request-id"));
		expect(r.action).toBe("key.revoke");
		expect(r.before.revoked_at).toBeNull();
		expect(r.after.revoked_at).toBeString();
		const [{ dump }] = await t.db.sql`select string_agg(row_to_json(a)::text, '') as dump from admin_audit a`;
		expect(dump).not.toContain(fullKey);
	});

	test("tenants, providers, accounts, prices and account enable are recorded, secrets masked", async () => {
		const calls: [string, string, unknown, string][] = [
			["POST", "/tenants", { id: "ten1", name: "T" }, "tenant.create"],
			["PATCH", "/tenants/ten1", { rpm: 3 }, "tenant.update"],
			["DELETE", "/tenants/ten1", undefined, "tenant.delete"],
			[
				"POST",
				"/providers",
				{
					name: "rt",
					base_url: "http://127.0.0.1:9/v1",
					models: ["m"],
					headers: { "X-Org": HEADER_SECRET },
					accounts: [{ name: "a1", api_key: ACCOUNT_KEY }],
				},
				"provider.create",
			],
			["PATCH", "/providers/rt", { models: ["m", "n"] }, "provider.update"],
			["POST", "/providers/rt/accounts", { name: "a2", api_key: ACCOUNT_KEY }, "account.create"],
			["PATCH", "/providers/rt/accounts/a2", { api_key: ROTATED_KEY }, "account.update"],
			["POST", "/providers/cfg/accounts/default/enable", undefined, "account.enable"],
			["DELETE", "/providers/rt/accounts/a2", undefined, "account.delete"],
			["DELETE", "/providers/rt", undefined, "provider.delete"],
			["PUT", "/prices/m", { input: 1, output: 2 }, "price.set"],
			["PUT", "/prices/m", { input: 3, output: 4 }, "price.set"],
			["DELETE", "/prices/m", undefined, "price.delete"],
		];
		for (const [method, path, body, action] of calls) {
			const r = await admin.call(method, path, { body });
			expect(r.status).toBeLessThan(300);
			const found = await byRequest(r.headers.get("x-request-id"));
			expect(found.map((e) => e.action)).toEqual([action]);
		}
		const all = JSON.stringify(await entries());
		for (const secret of [ACCOUNT_KEY, ROTATED_KEY, HEADER_SECRET, "sk-cfg-1234567890"])
			expect(all).not.toContain(secret);
		const [rotation] = await entries("action=account.update");
		expect(rotation.target).toEqual({ type: "account", id: "rt/a2" });
		expect(rotation.before.api_key).toBe("sk-…3c4d");
		expect(rotation.after.api_key).toBe(`sk-…${ROTATED_KEY.slice(-4)}`);
		expect(rotation.after.live).toBeUndefined();
		const [provider] = await entries("action=provider.create");
		expect(provider.after.headers["X-Org"]).toBe(`org-…${HEADER_SECRET.slice(-4)}`);
		const [del] = await entries("action=provider.delete");
		expect(del.after).toBeNull();
		expect(del.before.name).toBe("rt");
		const [price] = await entries("action=price.set");
		expect(price).toMatchObject({ before: { input: 1 }, after: { input: 3 } });
		const [enable] = await entries("action=account.enable");
		expect(enable).toMatchObject({ target: { type: "account", id: "cfg/default" }, after: { was_disabled: false } });
	});

	test("a refused change leaves no entry", async () => {
		const before = (await entries()).length;
		expect((await admin.call("PATCH", "/keys/key_nope", { body: { rpm: 1 } })).status).toBe(404);
		expect((await admin.call("POST", "/tenants", { body: { name: "x", rpm: -1 } })).status).toBe(400);
		expect((await admin.call("DELETE", "/prices/never-set")).status).toBe(404);
		expect(
			(await admin.call("POST", "/keys", { body: { tenant_id: "x" }, headers: { "x-admin-token": "bad" } })).status,
		).toBe(401);
		expect((await entries()).length).toBe(before);
	});

	test("filters: action (exact or prefix*), target (type or type:id), actor, since/until", async () => {
		expect((await entries("action=key.*")).map((e) => e.action)).toEqual(["key.revoke", "key.update", "key.create"]);
		expect((await entries("action=key.update")).length).toBe(1);
		expect((await entries(`target=key:${keyId}`)).length).toBe(3);
		expect((await entries("target=tenant")).length).toBe(3);
		expect((await entries("actor=token")).length).toBe((await entries()).length);
		expect(await entries("actor=session:nope")).toEqual([]);
		expect(await entries("until=1h")).toEqual([]);
		expect((await entries("since=1h")).length).toBe((await entries()).length);
		const bad = await admin.call("GET", "/audit?who=me");
		expect(bad.status).toBe(400);
		expect(bad.json.error.param).toBe("who");
		expect((await admin.call("GET", "/audit?limit=0")).json.error.param).toBe("limit");
		expect((await admin.call("GET", "/audit?cursor=zzz")).json.error.param).toBe("cursor");
	});

	test("newest first, keyset-paged through every entry exactly once", async () => {
		const all = await entries();
		const seen: string[] = [];
		let cursor: string | null = null;
		do {
			const r = await admin.call("GET", `/audit?limit=4${cursor ? `&cursor=${cursor}` : ""}`);
			seen.push(...r.json.data.map((e: Entry) => e.id));
			cursor = r.json.next_cursor;
		} while (cursor);
		expect(seen).toEqual(all.map((e) => e.id));
		const at = all.map((e) => Date.parse(e.at));
		expect(at).toEqual([...at].sort((a, b) => b - a));
	});

	test("x-forwarded-for is the client address only behind a trusted proxy", async () => {
		const headers = { "x-forwarded-for": "203.0.113.7, 10.0.0.1", "x-request-id": "xff-trusted" };
		await proxied.call("POST", "/tenants", { body: { id: "xff1", name: "x" }, headers });
		await admin.call("POST", "/tenants", {
			body: { id: "xff2", name: "x" },
			headers: { ...headers, "x-request-id": "xff-untrusted" },
		});
		expect((await byRequest("xff-trusted"))[0].client_address).toBe("203.0.113.7");
		expect((await byRequest("xff-untrusted"))[0].client_address).toBeNull();
	});
});
