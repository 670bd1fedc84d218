import { isGroupAllowed, isModelAllowed } from "../auth/model-allowlist.ts";
import type { AliasConfig } from "../config/types.ts";
import { GatewayError } from "../errors/gateway-error.ts";
import type { ModelTarget, ProviderRuntime, ProviderSet } from "../providers/provider-registry.ts";
import { groupTargets } from "./model-groups.ts";

/**
 * Where a request may go, in failover order: one target for `provider/model`, a bare id's pool
 * (every provider that lists it), or a model group's targets. Never empty.
 */
export type ResolvedModel = readonly ModelTarget[];

const MAX_ALIAS_HOPS = 8;

/** `owned_by` of a model group in the model lists: the gateway's own name, not one provider's. */
export const GROUP_OWNER = "interchange";

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

/** A model name (aliases applied, groups aside) → its targets, or null when nothing serves it. */
function resolveName(model: string, set: ProviderSet): ResolvedModel | null {
	const slash = model.indexOf("/");
	if (slash > 0) {
		const provider = set.providers.get(model.slice(0, slash));
		const rest = model.slice(slash + 1);
		if (provider && rest && serves(provider, rest)) return [{ provider, model: rest }];
	}
	// built with the set: the plain path allocates nothing here
	const listed = set.byModel.get(model);
	if (listed && listed.length > 0) return listed;
	for (const provider of set.providers.values()) {
		for (const entry of provider.models) {
			if (entry !== "*" && matchesModelPattern(entry, model)) return [{ provider, model }];
		}
	}
	return null;
}

const notAllowed = (requested: string) =>
	new GatewayError("PLATFORM_MODEL_NOT_ALLOWED", `This key is not allowed to use the model '${requested}'`, {
		param: "model",
	});

/**
 * Model resolution: alias rules first, then a model group's name, then `provider/model` when
 * the prefix names a provider (a provider with no model list, or with `*`, accepts any model
 * this way), then a bare id listed by providers (all of them, in configuration order: a pool
 * the failover loop walks; ids may themselves contain "/", as on OpenRouter), then a bare id
 * matching a provider's prefix pattern (`gpt-4o*`; `*` alone only through the `provider/`
 * form). Anything else is a 404.
 *
 * `allow` is the key's model allowlist: a group is admitted by its name (the requested one or
 * the alias's target), whatever its targets are; a plain model by its requested name, its id
 * or `provider/model`, and a pool keeps only the providers the list admits. 403 when nothing is left.
 */
export function resolveModel(
	requested: string,
	set: ProviderSet,
	aliases: readonly AliasConfig[],
	allow: ReadonlySet<string> | null = null,
): ResolvedModel {
	const model = aliases.length === 0 ? requested : applyAliases(requested, aliases);
	const group = set.groups.size === 0 ? undefined : set.groups.get(model);
	if (group) {
		if (allow && !isGroupAllowed(allow, requested) && !isGroupAllowed(allow, model)) throw notAllowed(requested);
		const targets = groupTargets(group, (name) => resolveName(name, set));
		if (targets) return targets;
		throw new GatewayError(
			"PLATFORM_MODEL_NOT_FOUND",
			`No target of the model group '${model}' is served here (its providers were removed?)`,
			{ param: "model" },
		);
	}
	const targets = resolveName(model, set);
	if (!targets) {
		throw new GatewayError(
			"PLATFORM_MODEL_NOT_FOUND",
			`The model '${requested}' does not exist or is not served here`,
			{ param: "model" },
		);
	}
	if (!allow) return targets;
	const admitted = (t: ModelTarget) => isModelAllowed(allow, { requested, model: t.model, provider: t.provider.name });
	if (targets.every(admitted)) return targets;
	const some = targets.filter(admitted);
	if (some.length === 0) throw notAllowed(requested);
	return some;
}

/**
 * Every bare model id listed (patterns left out) with its first provider, and every model
 * group (owned by GROUP_OWNER), de-duplicated and sorted.
 */
export function listModels(set: ProviderSet): { id: string; owned_by: string }[] {
	const out = [...set.byModel.entries()]
		.filter(([id]) => !isModelPattern(id) && !set.groups.has(id))
		.map(([id, targets]) => ({ id, owned_by: targets[0].provider.name }));
	for (const id of set.groups.keys()) out.push({ id, owned_by: GROUP_OWNER });
	return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
