import { normaliseBaseUrl } from "../config/base-url.ts";
import type { ModelGroupConfig } from "../config/model-group.ts";
import { PROVIDER_PRESETS, type ProviderPreset } from "../config/presets.ts";
import type { GatewayConfig, ProviderConfig, RoutingStrategy } from "../config/types.ts";
import type { AccountRef } from "./account-ref.ts";
import type { UpstreamTargetGuard } from "./upstream-target-guard.ts";

/** A configured provider as the request path sees it. */
export interface ProviderRuntime {
	name: string;
	type: string;
	preset: ProviderPreset;
	baseUrl: string;
	models: ReadonlySet<string>;
	headers: Record<string, string>;
	apiVersion: string | undefined;
	strategy: RoutingStrategy;
	accounts: AccountRef[];
	/** Set on providers created through the admin API in production: checks each target before connecting. */
	targetGuard?: UpstreamTargetGuard;
}

/** One place a request can go: a provider and the model id sent to it. */
export interface ModelTarget {
	provider: ProviderRuntime;
	model: string;
}

/**
 * A model group as one provider set holds it: a fresh object per set, so what is derived from
 * it (resolved targets, the weighted rotation) can be cached against it and goes with the set.
 */
export type ModelGroupRuntime = Readonly<ModelGroupConfig>;

export interface ProviderSet {
	providers: ReadonlyMap<string, ProviderRuntime>;
	/** Bare model id → the providers that list it, in configuration order: the pool a bare id fails over across. */
	byModel: ReadonlyMap<string, readonly ModelTarget[]>;
	/** Model groups by public name (the config file's, then the admin API's). */
	groups: ReadonlyMap<string, ModelGroupRuntime>;
}

/** Gives an account its slot in the shared account-state table (stable for the process). */
export type SlotOf = (provider: string, account: string) => number;

/**
 * Builds the provider set. `slotOf` gives each account a slot in the shared account-state
 * table; it must return the same slot for the same provider/account in every worker. Of two
 * groups of one name the first wins (the config file's come first).
 */
export function buildProviderSet(
	providers: ProviderConfig[],
	defaults: GatewayConfig["routing"],
	slotOf: SlotOf,
	groups: readonly ModelGroupConfig[] = [],
): ProviderSet {
	const map = new Map<string, ProviderRuntime>();
	const byModel = new Map<string, ModelTarget[]>();
	for (const p of providers) {
		const preset = PROVIDER_PRESETS[p.type] ?? PROVIDER_PRESETS.custom;
		const baseUrl = normaliseBaseUrl(p.base_url, preset);
		const runtime: ProviderRuntime = {
			name: p.name,
			type: p.type,
			preset,
			baseUrl,
			models: new Set(p.models),
			headers: { ...preset.headers, ...p.headers },
			apiVersion: p.api_version,
			strategy: p.strategy ?? defaults.strategy,
			accounts: p.accounts.map((a) => ({
				slot: slotOf(p.name, a.name),
				provider: p.name,
				name: a.name,
				apiKey: a.api_key,
				baseUrl: a.base_url ? normaliseBaseUrl(a.base_url, preset) : baseUrl,
				weight: a.weight,
				maxConcurrency: a.max_concurrency,
				models: a.models ? new Set(a.models) : null,
			})),
		};
		map.set(p.name, runtime);
		for (const m of p.models) {
			const target = { provider: runtime, model: m };
			const list = byModel.get(m);
			if (list) list.push(target);
			else byModel.set(m, [target]);
		}
	}
	const groupMap = new Map<string, ModelGroupRuntime>();
	for (const g of groups) if (!groupMap.has(g.name)) groupMap.set(g.name, { ...g });
	return { providers: map, byModel, groups: groupMap };
}
