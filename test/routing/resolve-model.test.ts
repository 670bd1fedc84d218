import { describe, expect, test } from "bun:test";
import type { AliasConfig, GatewayConfig, ProviderConfig } from "../../src/config/types.ts";
import { GatewayError } from "../../src/errors/gateway-error.ts";
import { buildProviderSet } from "../../src/providers/provider-registry.ts";
import { listModels, resolveModel } from "../../src/routing/resolve-model.ts";
import { sequentialSlots } from "../support/sequential-slots.ts";

const ROUTING: GatewayConfig["routing"] = {
	strategy: "weighted",
	max_account_switches: 3,
	first_byte_timeout_ms: 1000,
	request_timeout_ms: 10_000,
	max_retry_after_ms: 60_000,
	max_upstream_body_bytes: 32 * 1024 * 1024,
	stream_idle_timeout_ms: 120_000,
};

function provider(name: string, models: string[], type = "openai"): ProviderConfig {
	return {
		name,
		type,
		base_url: `http://${name}.test/v1`,
		models,
		headers: {},
		accounts: [{ name: "a", api_key: `sk-${name}`, weight: 1, max_concurrency: 0 }],
	};
}

const set = buildProviderSet(
	[
		provider("openai", ["gpt-4o", "gpt-4o-mini", "shared"]),
		provider("openrouter", ["meta-llama/llama-3-70b", "openai/gpt-4o", "shared"], "openrouter"),
		provider("local", []),
		provider("groq", ["llama3", "gpt-4o-mini"], "groq"),
	],
	ROUTING,
	sequentialSlots(),
);

function notFound(fn: () => unknown): GatewayError {
	try {
		fn();
	} catch (e) {
		expect(e).toBeInstanceOf(GatewayError);
		return e as GatewayError;
	}
	throw new Error("expected a GatewayError");
}

describe("resolveModel", () => {
	test("a bare id goes to the first provider listing it", () => {
		const [r] = resolveModel("gpt-4o", set, []);
		expect(r.provider.name).toBe("openai");
		expect(r.model).toBe("gpt-4o");
		expect(resolveModel("shared", set, [])[0].provider.name).toBe("openai");
		expect(resolveModel("llama3", set, [])[0].provider.name).toBe("groq");
	});

	test("provider/model picks that provider and strips the prefix", () => {
		const [r] = resolveModel("groq/gpt-4o-mini", set, []);
		expect(r.provider.name).toBe("groq");
		expect(r.model).toBe("gpt-4o-mini");
		expect(resolveModel("openrouter/shared", set, [])[0].provider.name).toBe("openrouter");
	});

	test("ids containing '/' (OpenRouter style) resolve as bare ids", () => {
		const [r] = resolveModel("meta-llama/llama-3-70b", set, []);
		expect(r.provider.name).toBe("openrouter");
		expect(r.model).toBe("meta-llama/llama-3-70b");
		// "openai/gpt-4o" is also a bare id of openrouter, but the prefix names a provider
		// that lists "gpt-4o", so the prefix form wins
		expect(resolveModel("openai/gpt-4o", set, [])[0]).toMatchObject({
			model: "gpt-4o",
		});
		expect(resolveModel("openai/gpt-4o", set, [])[0].provider.name).toBe("openai");
		// prefixed form of an id that itself contains "/"
		const [nested] = resolveModel("openrouter/meta-llama/llama-3-70b", set, []);
		expect(nested.provider.name).toBe("openrouter");
		expect(nested.model).toBe("meta-llama/llama-3-70b");
	});

	test("a provider/model whose provider does not list the rest falls back to the bare id list", () => {
		expect(() => resolveModel("groq/llama3x", set, [])).toThrow(GatewayError);
		const bareSet = buildProviderSet([provider("openrouter", ["openai/o1"])], ROUTING, sequentialSlots());
		const [r] = resolveModel("openai/o1", bareSet, []);
		expect(r.provider.name).toBe("openrouter");
		expect(r.model).toBe("openai/o1");
	});

	test("a provider with an empty model list accepts any model, only via its prefix", () => {
		const [r] = resolveModel("local/anything-at-all", set, []);
		expect(r.provider.name).toBe("local");
		expect(r.model).toBe("anything-at-all");
		expect(resolveModel("local/a/b", set, [])[0].model).toBe("a/b");
		expect(() => resolveModel("anything-at-all", set, [])).toThrow(GatewayError);
		expect(() => resolveModel("local/", set, [])).toThrow(GatewayError);
	});

	test("aliases: exact, trailing * prefix, chains", () => {
		const aliases: AliasConfig[] = [
			{ from: "fast", to: "cheap" },
			{ from: "cheap", to: "groq/gpt-4o-mini" },
			{ from: "claude-*", to: "local/claude" },
		];
		const [chained] = resolveModel("fast", set, aliases);
		expect(chained.provider.name).toBe("groq");
		expect(chained.model).toBe("gpt-4o-mini");
		const [prefixed] = resolveModel("claude-3-5-sonnet", set, aliases);
		expect(prefixed.provider.name).toBe("local");
		expect(prefixed.model).toBe("claude");
		// exact alias does not match a longer id
		expect(() => resolveModel("fast2", set, aliases)).toThrow(GatewayError);
	});

	test("alias loops end (bounded hops) with a 404 naming what the client asked for", () => {
		const loop: AliasConfig[] = [
			{ from: "a", to: "b" },
			{ from: "b", to: "a" },
		];
		const e = notFound(() => resolveModel("a", set, loop));
		expect(e.code).toBe("PLATFORM_MODEL_NOT_FOUND");
		expect(e.message).toContain("'a'");
		// a self-alias is a no-op
		expect(resolveModel("gpt-4o", set, [{ from: "gpt-*", to: "gpt-4o" }])[0].model).toBe("gpt-4o");
	});

	test("unknown model → 404 PLATFORM_MODEL_NOT_FOUND with param 'model'", () => {
		const e = notFound(() => resolveModel("no-such-model", set, []));
		expect(e.code).toBe("PLATFORM_MODEL_NOT_FOUND");
		expect(e.status).toBe(404);
		expect(e.param).toBe("model");
		expect(e.message).toContain("no-such-model");
		expect(notFound(() => resolveModel("nobody/x", set, [])).code).toBe("PLATFORM_MODEL_NOT_FOUND");
		expect(notFound(() => resolveModel("", set, [])).param).toBe("model");
	});
});

describe("listModels", () => {
	test("every bare id once, sorted, owned by its first provider", () => {
		const models = listModels(set);
		const ids = models.map((m) => m.id);
		expect(ids).toEqual([...new Set(ids)]);
		expect(ids).toEqual([...ids].sort());
		expect(new Set(ids)).toEqual(
			new Set(["gpt-4o", "gpt-4o-mini", "shared", "meta-llama/llama-3-70b", "openai/gpt-4o", "llama3"]),
		);
		const owner = Object.fromEntries(models.map((m) => [m.id, m.owned_by]));
		expect(owner["gpt-4o-mini"]).toBe("openai");
		expect(owner.shared).toBe("openai");
		expect(owner.llama3).toBe("groq");
	});

	test("an empty set lists nothing", () => {
		expect(listModels(buildProviderSet([], ROUTING, sequentialSlots()))).toEqual([]);
	});
});

describe("buildProviderSet with sequentialSlots", () => {
	test("slots follow configuration order and are stable per provider/account", () => {
		const slotOf = sequentialSlots();
		const s = buildProviderSet(
			[
				{
					...provider("p1", ["m"]),
					accounts: [
						{ name: "x", api_key: "k", weight: 1, max_concurrency: 0 },
						{
							name: "y",
							api_key: "k",
							weight: 1,
							max_concurrency: 0,
							base_url: "http://y.test/v1/",
						},
					],
				},
				provider("p2", ["m"]),
			],
			ROUTING,
			slotOf,
		);
		expect(s.providers.get("p1")?.accounts.map((a) => a.slot)).toEqual([0, 1]);
		expect(s.providers.get("p2")?.accounts.map((a) => a.slot)).toEqual([2]);
		expect(slotOf("p1", "y")).toBe(1);
		expect(s.providers.get("p1")?.accounts[1].baseUrl).toBe("http://y.test/v1");
		expect(s.providers.get("p1")?.strategy).toBe("weighted");
	});
});
