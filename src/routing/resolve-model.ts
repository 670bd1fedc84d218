import type { AliasConfig } from "../config/types.ts";
import { GatewayError } from "../errors/gateway-error.ts";
import type { ProviderRuntime, ProviderSet } from "../providers/provider-registry.ts";

export interface ResolvedModel {
	provider: ProviderRuntime;
	/** The model id sent upstream. */
	model: string;
}

const MAX_ALIAS_HOPS = 8;

function applyAliases(model: string, aliases: readonly AliasConfig[]): string {
	let current = model;
	for (let hop = 0; hop < MAX_ALIAS_HOPS; hop++) {
		const rule = aliases.find((a) =>
			a.from.endsWith("*") ? current.startsWith(a.from.slice(0, -1)) : a.from === current,
		);
		if (!rule || rule.to === current) return current;
		current = rule.to;
	}
	return current;
}

/**
 * Model resolution: alias rules first, then `provider/model` when the prefix names a
 * provider (a provider with no model list accepts any model this way), then a bare id listed
 * by a provider (first in configuration order; ids may themselves contain "/", as on
 * OpenRouter). Anything else is a 404.
 */
export function resolveModel(requested: string, set: ProviderSet, aliases: readonly AliasConfig[]): ResolvedModel {
	const model = applyAliases(requested, aliases);
	const slash = model.indexOf("/");
	if (slash > 0) {
		const provider = set.providers.get(model.slice(0, slash));
		const rest = model.slice(slash + 1);
		if (provider && rest && (provider.models.size === 0 || provider.models.has(rest))) {
			return { provider, model: rest };
		}
	}
	const listed = set.byModel.get(model);
	if (listed && listed.length > 0) return { provider: listed[0], model };
	throw new GatewayError("PLATFORM_MODEL_NOT_FOUND", `The model '${requested}' does not exist or is not served here`, {
		param: "model",
	});
}

/** Every bare model id served, de-duplicated and sorted, with its first provider. */
export function listModels(set: ProviderSet): { id: string; owned_by: string }[] {
	return [...set.byModel.entries()]
		.map(([id, providers]) => ({ id, owned_by: providers[0].name }))
		.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
