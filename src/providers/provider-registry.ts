import { normaliseBaseUrl } from "../config/base-url.ts";
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

export interface ProviderSet {
	providers: ReadonlyMap<string, ProviderRuntime>;
	/** Bare model id → providers that list it, in configuration order. */
	byModel: ReadonlyMap<string, ProviderRuntime[]>;
}

/**
 * Builds the provider set. `slotOf` gives each account a slot in the shared account-state
 * table; it must return the same slot for the same provider/account in every worker.
 */
/** Gives an account its slot in the shared account-state table (stable for the process). */
export type SlotOf = (provider: string, account: string) => number;

export function buildProviderSet(
	providers: ProviderConfig[],
	defaults: GatewayConfig["routing"],
	slotOf: SlotOf,
): ProviderSet {
	const map = new Map<string, ProviderRuntime>();
	const byModel = new Map<string, ProviderRuntime[]>();
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
			const list = byModel.get(m);
			if (list) list.push(runtime);
			else byModel.set(m, [runtime]);
		}
	}
	return { providers: map, byModel };
}
