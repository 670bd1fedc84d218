import { beforeAll, describe, expect, test } from "bun:test";
import Ajv from "ajv";
import { ADMIN_ROUTES } from "../../src/admin/admin-route-table.ts";
import { openApiPath } from "../../src/admin/openapi.ts";
import { type AdminTestApp, adminTestApp } from "../support/admin-app.ts";
import { useTestDatabase } from "../support/test-database.ts";

/** /admin/openapi.json and /admin/reference: built from the route table, which matches the app. */

const TOKEN = "admin-openapi-token-0123456789";
const t = useTestDatabase();
let admin: AdminTestApp;
// biome-ignore lint/suspicious/noExplicitAny: the document is read as loose JSON
let doc: any;

beforeAll(async () => {
	admin = await adminTestApp(t.db.sql, TOKEN);
	const r = await admin.call("GET", "/openapi.json");
	expect(r.status).toBe(200);
	doc = r.json;
}, 30_000);

const METHODS = ["get", "post", "put", "patch", "delete"];

describe("admin OpenAPI document", () => {
	test("the route table is exactly the app's /admin routes", () => {
		const actual = admin.app.routes
			.filter((r) => r.path.startsWith("/admin/") && METHODS.includes(r.method.toLowerCase()))
			.map((r) => `${r.method.toUpperCase()} ${r.path}`)
			.sort();
		const table = ADMIN_ROUTES.map((r) => `${r.method} /admin${r.path}`).sort();
		expect(actual).toEqual(table);
	});

	test("every route is in the document, with its path parameters, body and query schemas", () => {
		expect(doc.openapi).toBe("3.1.0");
		const operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
			Object.keys(ops as object).map((m) => `${m.toUpperCase()} ${path}`),
		);
		expect(operations.sort()).toEqual(ADMIN_ROUTES.map((r) => `${r.method} ${openApiPath(r.path)}`).sort());
		const ids = new Set<string>();
		for (const [path, ops] of Object.entries(doc.paths)) {
			const placeholders = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
			// biome-ignore lint/suspicious/noExplicitAny: loose JSON
			for (const op of Object.values(ops as Record<string, any>)) {
				expect(METHODS).toContain(Object.keys(ops as object)[0]);
				expect(op.summary).toBeString();
				expect(Object.keys(op.responses).some((s) => s.startsWith("2"))).toBe(true);
				ids.add(op.operationId);
				// biome-ignore lint/suspicious/noExplicitAny: loose JSON
				const pathParams = (op.parameters ?? []).filter((p: any) => p.in === "path").map((p: any) => p.name);
				expect(pathParams).toEqual(placeholders);
			}
		}
		expect(ids.size).toBe(ADMIN_ROUTES.length);
		expect(doc.paths["/admin/keys"].post.requestBody.content["application/json"].schema.required).toEqual([
			"tenant_id",
		]);
		const usageParams = doc.paths["/admin/usage"].get.parameters.map((p: { name: string }) => p.name);
		expect(usageParams).toEqual(expect.arrayContaining(["group_by", "key_id", "status", "since", "format"]));
		expect(doc.components.securitySchemes.bearer).toEqual({ type: "http", scheme: "bearer" });
	});

	test("the body schemas are valid JSON Schema and accept what the API accepts", () => {
		const ajv = new Ajv({ strict: false });
		// Elysia's t.Integer marks its schemas with format "integer" beside type "integer"
		ajv.addFormat("integer", true);
		const createKey = ajv.compile(doc.paths["/admin/keys"].post.requestBody.content["application/json"].schema);
		expect(createKey({ tenant_id: "acme", rpm: 5 })).toBe(true);
		expect(createKey({ tenant_id: "acme", rpn: 5 })).toBe(false);
		type Op = { requestBody?: { content: Record<string, { schema: object }> } };
		for (const ops of Object.values(doc.paths))
			for (const op of Object.values(ops as Record<string, Op>)) {
				const schema = op.requestBody?.content["application/json"].schema;
				if (schema) expect(() => ajv.compile(schema)).not.toThrow();
			}
	});

	test("the document and the reference page want the admin token; the page is self-contained HTML", async () => {
		for (const path of ["/openapi.json", "/reference"]) {
			const r = await admin.call("GET", path, { headers: { "x-admin-token": "wrong" } });
			expect(r.status).toBe(401);
			expect(r.text).not.toContain("tenant_id");
		}
		const page = await admin.call("GET", "/reference");
		expect(page.status).toBe(200);
		expect(page.headers.get("content-type")).toStartWith("text/html");
		for (const r of ADMIN_ROUTES) expect(page.text).toContain(`<code>${openApiPath(r.path)}</code>`);
		// nothing fetched from elsewhere
		expect(page.text).not.toMatch(/<script|<link|src=|https?:\/\//);
	});
});
