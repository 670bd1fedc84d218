import { beforeAll, describe, expect, test } from "bun:test";
import type { ProviderCatalog } from "../../src/providers/provider-catalog.ts";
import { resolveModel } from "../../src/routing/resolve-model.ts";
import { type AdminTestApp, adminTestApp } from "../support/admin-app.ts";
import { useTestDatabase } from "../support/test-database.ts";

const TOKEN = "admin-test-token-0123456789";
const t = useTestDatabase();
let app: AdminTestApp["app"];
let catalog: ProviderCatalog;

beforeAll(async () => {
	({ app, catalog } = await adminTestApp(t.db.sql, TOKEN, {
		file: {
			providers: [
				{ name: "oa", type: "openai", base_url: "http://127.0.0.1:9/v1", models: ["gpt-4o"], api_key: "sk-a" },
				{ name: "cl", type: "anthropic", base_url: "http://127.0.0.1:9/v1", models: ["claude-x"], api_key: "sk-c" },
			],
			model_groups: [{ name: "cfg-group", targets: ["oa/gpt-4o"] }],
		},
	}));
}, 30_000);

// biome-ignore lint/suspicious/noExplicitAny: admin answers are read as loose JSON in tests
async function call<T = Record<string, any>>(method: string, path: string, body?: unknown, token = TOKEN) {
	const res = await app.handle(
		new Request(`http://localhost/admin${path}`, {
			method,
			headers: { "x-admin-token": token, "content-type": "application/json" },
			body: body === undefined ? undefined : JSON.stringify(body),
		}),
	);
	return { status: res.status, json: (await res.json()) as T };
}

const targetsOf = (name: string) =>
	resolveModel(name, catalog.current(), []).map((x) => `${x.provider.name}/${x.model}`);

describe("admin API: model groups", () => {
	test("behind the admin token", async () => {
		expect((await call("GET", "/model-groups", undefined, "wrong")).status).toBe(401);
		expect((await call("POST", "/model-groups", { name: "x", targets: ["oa/gpt-4o"] }, "wrong")).status).toBe(401);
	});

	test("create, read, change and delete; each change is what requests resolve to at once", async () => {
		expect((await call("GET", "/model-groups")).json.data.map((g: { name: string }) => g.name)).toEqual(["cfg-group"]);
		const created = await call("POST", "/model-groups", { name: "smart", targets: ["oa/gpt-4o", "cl/claude-x"] });
		expect(created.status).toBe(201);
		expect(created.json).toEqual({
			name: "smart",
			object: "model_group",
			source: "database",
			targets: ["oa/gpt-4o", "cl/claude-x"],
			strategy: "ordered",
			weights: null,
		});
		expect(targetsOf("smart")).toEqual(["oa/gpt-4o", "cl/claude-x"]);

		const list = await call("GET", "/model-groups");
		expect(list.json.data.map((g: { name: string; source: string }) => `${g.name}:${g.source}`)).toEqual([
			"cfg-group:config",
			"smart:database",
		]);
		expect((await call("GET", "/model-groups/smart")).json.targets).toEqual(["oa/gpt-4o", "cl/claude-x"]);

		const patched = await call("PATCH", "/model-groups/smart", { strategy: "weighted", weights: [0, 1] });
		expect(patched.status).toBe(200);
		expect(patched.json).toMatchObject({ strategy: "weighted", weights: [0, 1] });
		expect(targetsOf("smart")).toEqual(["cl/claude-x", "oa/gpt-4o"]);
		// back to ordered: the weights go with the strategy
		expect((await call("PATCH", "/model-groups/smart", { strategy: "ordered" })).json.weights).toBeNull();

		expect((await call("DELETE", "/model-groups/smart")).json).toEqual({
			name: "smart",
			object: "model_group",
			deleted: true,
		});
		expect((await call("GET", "/model-groups/smart")).status).toBe(404);
		expect(() => targetsOf("smart")).toThrow("does not exist");
	});

	test("validated like the other admin routes: unknown fields, weights, targets, names", async () => {
		const bad = async (body: unknown, method = "POST", path = "/model-groups") => {
			const r = await call(method, path, body);
			expect(r.status).toBe(400);
			expect(r.json.error.code).toBe("PLATFORM_INVALID_REQUEST");
			return r.json.error as { message: string; param: string };
		};
		expect((await bad({ name: "g", targets: ["oa/gpt-4o"], fallback: true })).param).toBe("fallback");
		expect((await bad({ name: "a/b", targets: ["oa/gpt-4o"] })).param).toBe("name");
		expect((await bad({ name: "g", targets: [] })).param).toBe("targets");
		expect((await bad({ name: "g", targets: ["oa/gpt-4o"], strategy: "weighted" })).param).toBe("weights");
		expect(
			(await bad({ name: "g", targets: ["oa/gpt-4o", "cl/claude-x"], strategy: "weighted", weights: [1] })).message,
		).toContain("one weight per target");
		expect((await bad({ name: "g", targets: ["oa/gpt-4o"], weights: [1] })).message).toContain("weighted");
		const typo = await bad({ name: "g", targets: ["oa/gpt-4o", "cl/claude-typo"] });
		expect(typo.param).toBe("targets[1]");
		expect(typo.message).toContain("cl/claude-typo");
		expect((await bad({ name: "g", targets: ["cfg-group"] })).message).toContain("do not nest");

		await call("POST", "/model-groups", { name: "g2", targets: ["gpt-4o"] });
		expect((await bad({ unknown: 1 }, "PATCH", "/model-groups/g2")).param).toBe("unknown");
		expect((await call("PATCH", "/model-groups/nope", { targets: ["gpt-4o"] })).status).toBe(404);
		expect((await call("POST", "/model-groups", { name: "g2", targets: ["gpt-4o"] })).json.error.code).toBe(
			"PLATFORM_CONFLICT",
		);
	});

	test("the config file's groups are read-only here", async () => {
		expect((await call("GET", "/model-groups/cfg-group")).json.source).toBe("config");
		for (const [method, body] of [
			["PATCH", { targets: ["cl/claude-x"] }],
			["DELETE", undefined],
		] as const) {
			expect((await call(method, "/model-groups/cfg-group", body)).json.error.code).toBe("PLATFORM_CONFLICT");
		}
		const clash = await call("POST", "/model-groups", { name: "cfg-group", targets: ["cl/claude-x"] });
		expect(clash.json.error.code).toBe("PLATFORM_CONFLICT");
		expect(targetsOf("cfg-group")).toEqual(["oa/gpt-4o"]);
	});
});
