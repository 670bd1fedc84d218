/**
 * `bun bench/resolve-cost.ts`: what model-group resolution costs the plain path. Times
 * resolveModel + the plan choice (as proxy-request makes it, through the loop's per-target
 * callback) for a plain model id, on a provider set without model groups and on one with 200,
 * and for reference a group request. Rounds alternate the cases; the medians are printed in
 * ns per request. In-process only: no server, no network.
 * Env: ROUNDS (9), ITERATIONS (500000).
 */
import type { ModelGroupConfig } from "../src/config/model-group.ts";
import type { GatewayConfig, ProviderConfig } from "../src/config/types.ts";
import { choosePlan } from "../src/protocols/choose-plan.ts";
import { buildProviderSet, type ModelTarget, type ProviderSet } from "../src/providers/provider-registry.ts";
import { resolveModel } from "../src/routing/resolve-model.ts";

const ROUTING: GatewayConfig["routing"] = {
	strategy: "weighted",
	max_account_switches: 3,
	first_byte_timeout_ms: 30_000,
	request_timeout_ms: 600_000,
	max_retry_after_ms: 60_000,
	max_upstream_body_bytes: 32 * 1024 * 1024,
	stream_idle_timeout_ms: 120_000,
};
const provider = (name: string, type: string, models: string[]): ProviderConfig => ({
	name,
	type,
	base_url: `http://${name}.test/v1`,
	models,
	headers: {},
	accounts: [{ name: "a", api_key: `sk-${name}`, weight: 1, max_concurrency: 0 }],
});
const providers = [
	provider("openai", "openai", ["gpt-4o", "gpt-4o-mini", "o3-mini"]),
	provider("claude", "anthropic", ["claude-sonnet-4-5", "claude-haiku-4-5"]),
];
const groups: ModelGroupConfig[] = Array.from({ length: 200 }, (_, i) => ({
	name: `group-${i}`,
	targets: ["openai/gpt-4o", "claude/claude-sonnet-4-5"],
	strategy: i % 2 === 0 ? "ordered" : "weighted",
	weights: i % 2 === 0 ? null : [3, 1],
}));
const slots = (() => {
	let next = 0;
	return () => next++;
})();
const plain = buildProviderSet(providers, ROUTING, slots);
const grouped = buildProviderSet(providers, ROUTING, slots, groups);

const body = { model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] };
const raw = JSON.stringify(body);
const headers = new Headers({ "content-type": "application/json" });

let sink = 0;
/** The plan outlives the call in the gateway (it maps the answer): kept here, so it is not optimised away. */
let kept: unknown = null;
function resolveOnly(set: ProviderSet, model: string): void {
	sink += resolveModel(model, set, [], null).length;
}

/** One request's resolution and its first target's plan, as proxy-request and the loop make them. */
function resolveAndPlan(set: ProviderSet, model: string): void {
	const targets = resolveModel(model, set, [], null);
	const planFor = (target: ModelTarget) =>
		choosePlan({
			op: "chat",
			provider: target.provider,
			model: target.model,
			requestedModel: model,
			body,
			raw,
			clientHeaders: headers,
		});
	const plan = planFor(targets[0]);
	sink += targets.length;
	kept = plan;
}

type Case = [string, (set: ProviderSet, model: string) => void, ProviderSet, string];
const cases: Case[] = [
	["resolve: plain model, no groups", resolveOnly, plain, "gpt-4o-mini"],
	["resolve: plain model, 200 groups", resolveOnly, grouped, "gpt-4o-mini"],
	["resolve + plan: plain model, no groups", resolveAndPlan, plain, "gpt-4o-mini"],
	["resolve + plan: plain model, 200 groups", resolveAndPlan, grouped, "gpt-4o-mini"],
	["resolve + plan: weighted group (reference)", resolveAndPlan, grouped, "group-1"],
];
const rounds = Number(process.env.ROUNDS ?? 9);
const iterations = Number(process.env.ITERATIONS ?? 500_000);
const results = new Map<string, number[]>(cases.map(([name]) => [name, []]));
for (const [, run, set, model] of cases) for (let i = 0; i < iterations; i++) run(set, model);
for (let r = 0; r < rounds; r++) {
	for (let k = 0; k < cases.length; k++) {
		const [name, run, set, model] = cases[(k + r) % cases.length];
		const t0 = Bun.nanoseconds();
		for (let i = 0; i < iterations; i++) run(set, model);
		results.get(name)?.push((Bun.nanoseconds() - t0) / iterations);
	}
}
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)] ?? 0;
for (const [name, ns] of results) {
	console.log(`${name.padEnd(44)} ${median(ns).toFixed(1).padStart(7)} ns/op  (min ${Math.min(...ns).toFixed(1)})`);
}
if (sink === 0 || kept === null) console.log("");
