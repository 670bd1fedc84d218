import { describe, expect, test } from "bun:test";
import { PROVIDER_PRESETS } from "../../src/config/presets.ts";
import {
	anthropicOverOpenAIPlan,
	anthropicPassthroughPlan,
	openAIOverAnthropicPlan,
} from "../../src/protocols/anthropic/plans.ts";
import { choosePlan } from "../../src/protocols/choose-plan.ts";
import { openAIPassthroughPlan } from "../../src/protocols/openai/passthrough-plan.ts";
import type { Operation } from "../../src/protocols/operations.ts";
import { PROTOCOLS } from "../../src/protocols/registry.ts";
import type { PlanFactory } from "../../src/protocols/upstream-plan.ts";
import { buildProviderSet } from "../../src/providers/provider-registry.ts";

describe("protocol registry", () => {
	test("every preset names a registered protocol", () => {
		for (const [name, preset] of Object.entries(PROVIDER_PRESETS)) {
			expect({ name, registered: preset.protocol in PROTOCOLS }).toEqual({ name, registered: true });
		}
	});

	test("exactly one protocol speaks the common shape", () => {
		expect(Object.values(PROTOCOLS).filter((p) => p.speaksCommon)).toHaveLength(1);
	});
});

describe("choosePlan", () => {
	const providers = buildProviderSet(
		[
			{
				name: "oa",
				type: "openai",
				base_url: "http://127.0.0.1:1/v1",
				models: ["m"],
				accounts: [{ name: "a", api_key: "k" }],
			},
			{
				name: "an",
				type: "anthropic",
				base_url: "http://127.0.0.1:1/v1",
				models: ["c"],
				accounts: [{ name: "a", api_key: "k" }],
			},
		] as never,
		{ strategy: "first_available" } as never,
		() => 0,
	);
	// which factory serves each (client operation, upstream protocol); null = refused
	const expected: [Operation, string, PlanFactory | null][] = [
		["chat", "oa", openAIPassthroughPlan],
		["completions", "oa", openAIPassthroughPlan],
		["embeddings", "oa", openAIPassthroughPlan],
		["responses", "oa", openAIPassthroughPlan],
		["messages", "oa", anthropicOverOpenAIPlan],
		["count_tokens", "oa", null],
		["chat", "an", openAIOverAnthropicPlan],
		["messages", "an", anthropicPassthroughPlan],
		["count_tokens", "an", anthropicPassthroughPlan],
		["embeddings", "an", null],
		["completions", "an", null],
	];
	for (const [op, providerName, factory] of expected) {
		test(`${op} on ${providerName}`, () => {
			const provider = providers.providers.get(providerName);
			if (!provider) throw new Error(`no provider ${providerName}`);
			const body = { model: "m", messages: [{ role: "user", content: "hi" }], max_tokens: 5 };
			const input = { op, provider, model: "m", requestedModel: "m", body, raw: JSON.stringify(body) };
			if (!factory) {
				expect(() => choosePlan(input)).toThrow("does not support this endpoint");
				return;
			}
			const account = provider.accounts[0];
			if (!account) throw new Error("no account");
			expect(choosePlan(input).build(account)).toEqual(factory(input).build(account));
		});
	}
});
