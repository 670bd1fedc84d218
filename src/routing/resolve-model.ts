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

/** A model-list entry with a trailing `*` matches ids by prefix; `*` alone matches every id. */
export const isModelPattern = (entry: string): boolean => entry.endsWith("*");

export function matchesModelPattern(pattern: string, id: string): boolean {
	return isModelPattern(pattern) && id.startsWith(pattern.slice(0, -1));
}

/** A provider serves `model` when its list is empty, names it, or has a pattern matching it. */
function serves(provider: ProviderRuntime, model: string): boolean {
	if (provider.models.size === 0 || provider.models.has(model)) return true;
	for (const entry of provider.models) if (matchesModelPattern(entry, model)) return true;
	return false;
}

/**
 * Model resolution: alias rules first, then `provider/model` when the prefix names a
 * provider (a provider with no model list, or with `*`, accepts any model this way), then a
 * bare id listed by a provider (first in configuration order; ids may themselves contain "/",
 * as on OpenRouter), then a bare id matching a provider's prefix pattern (`gpt-4o*`; `*` alone
 * only through the `provider/` form). Anything else is a 404.
 */
export function resolveModel(requested: string, set: ProviderSet, aliases: readonly AliasConfig[]): ResolvedModel {
	const model = applyAliases(requested, aliases);
	const slash = model.indexOf("/");
	if (slash > 0) {
		const provider = set.providers.get(model.slice(0, slash));
		const rest = model.slice(slash + 1);
		if (provider && rest && serves(provider, rest)) return { provider, model: rest };
	}
	const listed = set.byModel.get(model);
	if (listed && listed.length > 0) return { provider: listed[0], model };
	for (const provider of set.providers.values()) {
		for (const entry of provider.models) {
			if (entry !== "*" && matchesModelPattern(entry, model)) return { provider, model };
		}
	}
	throw new GatewayError("PLATFORM_MODEL_NOT_FOUND", `The model '${requested}' does not exist or is not served here`, {
		param: "model",
	});
}

/** Every bare model id listed (patterns left out), de-duplicated and sorted, with its first provider. */
export function listModels(set: ProviderSet): { id: string; owned_by: string }[] {
	return [...set.byModel.entries()]
		.filter(([id]) => !isModelPattern(id))
		.map(([id, providers]) => ({ id, owned_by: providers[0].name }))
		.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
