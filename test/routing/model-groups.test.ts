import { describe, expect, test } from "bun:test";
import type { ModelGroupConfig } from "../../src/config/model-group.ts";
import type { GatewayConfig, ProviderConfig } from "../../src/config/types.ts";
import { GatewayError } from "../../src/errors/gateway-error.ts";
import { buildProviderSet, type ProviderSet } from "../../src/providers/provider-registry.ts";
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

const provider = (name: string, models: string[], type = "openai"): ProviderConfig => ({
	name,
	type,
	base_url: `http://${name}.test/v1`,
	models,
	headers: {},
	accounts: [{ name: "a", api_key: `sk-${name}`, weight: 1, max_concurrency: 0 }],
});

const group = (name: string, targets: string[], weights: number[] | null = null): ModelGroupConfig => ({
	name,
	targets,
	strategy: weights ? "weighted" : "ordered",
	weights,
});

function setWith(groups: ModelGroupConfig[]): ProviderSet {
	return buildProviderSet(
		[
			provider("openai", ["gpt-4o", "shared"]),
			provider("claude", ["claude-sonnet-4-5", "shared"], "anthropic"),
			provider("backup", ["gpt-4o"]),
		],
		ROUTING,
		sequentialSlots(),
		groups,
	);
}

const names = (targets: readonly { provider: { name: string }; model: string }[]) =>
	targets.map((t) => `${t.provider.name}/${t.model}`);

function thrown(fn: () => unknown): GatewayError {
	try {
		fn();
	} catch (e) {
		expect(e).toBeInstanceOf(GatewayError);
		return e as GatewayError;
	}
	throw new Error("expected a GatewayError");
}

describe("model groups", () => {
	test("ordered: the targets in list order, a bare target bringing its whole pool", () => {
		const set = setWith([group("smart", ["claude/claude-sonnet-4-5", "gpt-4o"])]);
		expect(names(resolveModel("smart", set, []))).toEqual([
			"claude/claude-sonnet-4-5",
			"openai/gpt-4o",
			"backup/gpt-4o",
		]);
	});

	test("weighted: the first target by weight, exactly 3:1 per cycle, the others after it in list order", () => {
		const set = setWith([group("spread", ["openai/gpt-4o", "claude/claude-sonnet-4-5"], [3, 1])]);
		const firsts = Array.from({ length: 8 }, () => names(resolveModel("spread", set, [])));
		expect(firsts.filter((t) => t[0] === "openai/gpt-4o").length).toBe(6);
		for (const t of firsts) {
			expect(t).toHaveLength(2);
			expect(new Set(t)).toEqual(new Set(["openai/gpt-4o", "claude/claude-sonnet-4-5"]));
		}
		// interleaved, not three in a row then one
		expect(firsts.slice(0, 4).map((t) => t[0])).toContain("claude/claude-sonnet-4-5");
	});

	test("a zero weight is never first but still a fallback", () => {
		const set = setWith([group("z", ["openai/gpt-4o", "claude/claude-sonnet-4-5"], [1, 0])]);
		for (let i = 0; i < 4; i++) {
			expect(names(resolveModel("z", set, []))).toEqual(["openai/gpt-4o", "claude/claude-sonnet-4-5"]);
		}
	});

	test("aliases lead to groups; targets nothing serves are left out, none left is a 404", () => {
		const set = setWith([group("smart", ["gone/x", "openai/gpt-4o"]), group("empty", ["gone/x"])]);
		expect(names(resolveModel("fast", set, [{ from: "fast", to: "smart" }]))).toEqual(["openai/gpt-4o"]);
		const e = thrown(() => resolveModel("empty", set, []));
		expect(e.code).toBe("PLATFORM_MODEL_NOT_FOUND");
		expect(e.message).toContain("'empty'");
	});

	test("a key's allowlist admits a group by its name, not by its targets", () => {
		const set = setWith([group("smart", ["openai/gpt-4o", "claude/claude-sonnet-4-5"])]);
		expect(resolveModel("smart", set, [], new Set(["smart"]))).toHaveLength(2);
		expect(resolveModel("smart", set, [], new Set(["sm*"]))).toHaveLength(2);
		const e = thrown(() => resolveModel("smart", set, [], new Set(["gpt-4o", "openai/*"])));
		expect(e.code).toBe("PLATFORM_MODEL_NOT_ALLOWED");
		expect(e.status).toBe(403);
	});

	test("/v1/models lists groups, owned by the gateway; a group hides a listed id of its name", () => {
		const set = setWith([group("smart", ["openai/gpt-4o"]), group("shared", ["claude/claude-sonnet-4-5"])]);
		const owner = Object.fromEntries(listModels(set).map((m) => [m.id, m.owned_by]));
		expect(owner.smart).toBe("interchange");
		expect(owner.shared).toBe("interchange");
		expect(owner["gpt-4o"]).toBe("openai");
		expect(names(resolveModel("shared", set, []))).toEqual(["claude/claude-sonnet-4-5"]);
	});
});

describe("a bare model served by several providers", () => {
	test("is a pool in configuration order; the plain path hands out the set's own list", () => {
		const set = setWith([]);
		const pool = resolveModel("gpt-4o", set, []);
		expect(names(pool)).toEqual(["openai/gpt-4o", "backup/gpt-4o"]);
		expect(resolveModel("gpt-4o", set, [])).toBe(pool);
		expect(names(resolveModel("shared", set, []))).toEqual(["openai/shared", "claude/shared"]);
	});

	test("a key's allowlist keeps only the providers it admits", () => {
		const set = setWith([]);
		expect(names(resolveModel("gpt-4o", set, [], new Set(["backup/*"])))).toEqual(["backup/gpt-4o"]);
		expect(names(resolveModel("gpt-4o", set, [], new Set(["gpt-4o"])))).toHaveLength(2);
		expect(thrown(() => resolveModel("gpt-4o", set, [], new Set(["claude/*"]))).code).toBe(
			"PLATFORM_MODEL_NOT_ALLOWED",
		);
	});
});
