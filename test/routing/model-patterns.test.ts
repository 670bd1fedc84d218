import { describe, expect, test } from "bun:test";
import { isModelAllowed } from "../../src/auth/model-allowlist.ts";
import type { ProviderConfig } from "../../src/config/types.ts";
import { buildProviderSet } from "../../src/providers/provider-registry.ts";
import { listModels, resolveModel } from "../../src/routing/resolve-model.ts";
import { sequentialSlots } from "../support/sequential-slots.ts";

const provider = (name: string, models: string[]): ProviderConfig => ({
	name,
	type: "openai",
	base_url: `http://${name}.test/v1`,
	models,
	headers: {},
	accounts: [{ name: "a", api_key: "k", weight: 1, max_concurrency: 0 }],
});

const set = buildProviderSet(
	[provider("openai", ["gpt-4o*"]), provider("any", ["*"]), provider("fixed", ["m1"])],
	{
		strategy: "weighted",
		max_account_switches: 3,
		first_byte_timeout_ms: 1000,
		request_timeout_ms: 10_000,
		max_retry_after_ms: 60_000,
		max_upstream_body_bytes: 32 * 1024 * 1024,
		stream_idle_timeout_ms: 120_000,
	},
	sequentialSlots(),
);

describe("model patterns in provider lists", () => {
	test("a prefix pattern serves bare ids and provider/ ids; '*' serves any id through provider/", () => {
		expect(resolveModel("gpt-4o-mini", set, [])[0].provider.name).toBe("openai");
		expect(resolveModel("openai/gpt-4o", set, [])[0].model).toBe("gpt-4o");
		expect(resolveModel("any/whatever-1", set, [])[0]).toMatchObject({ model: "whatever-1" });
		expect(() => resolveModel("whatever-1", set, [])).toThrow(
			expect.objectContaining({ code: "PLATFORM_MODEL_NOT_FOUND" }),
		);
		expect(() => resolveModel("openai/o3", set, [])).toThrow(
			expect.objectContaining({ code: "PLATFORM_MODEL_NOT_FOUND" }),
		);
	});

	test("patterns are not listed as model ids", () => {
		expect(listModels(set).map((m) => m.id)).toEqual(["m1"]);
	});
});

describe("model allowlist patterns", () => {
	const names = { requested: "claude-sonnet", model: "claude-sonnet", provider: "claude" };
	test.each([
		[null, true],
		[["claude-sonnet"], true],
		[["claude/claude-sonnet"], true],
		[["claude/*"], true],
		[["claude-*"], true],
		[["*"], true],
		[["openai/*"], false],
		[["claude-sonnet-4"], false],
	])("%j admits claude/claude-sonnet: %p", (allow, expected) => {
		expect(isModelAllowed(allow ? new Set(allow) : null, names)).toBe(expected);
	});
});
