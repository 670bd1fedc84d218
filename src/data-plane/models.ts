import { isGroupAllowed, isModelAllowed } from "../auth/model-allowlist.ts";
import type { Principal } from "../auth/principal.ts";
import {
	GROUP_OWNER,
	isModelPattern,
	listModels,
	matchesModelPattern,
	resolveModel,
} from "../routing/resolve-model.ts";
import type { GatewayDeps } from "./gateway-deps.ts";
import type { UpstreamModels } from "./upstream-models.ts";

/** An OpenAI model object. */
export interface ModelObject {
	id: string;
	object: "model";
	created: number;
	owned_by: string;
}

const model = (id: string, owner: string): ModelObject => ({ id, object: "model", created: 0, owned_by: owner });

/**
 * `GET /v1/models`: the bare ids providers list and the model groups, then `provider/model` for what providers with
 * patterns in their model list (`*`, `gpt-4o*`) find on their upstream's own list, each kept
 * only when the key's allowlist admits it.
 */
export async function modelsFor(
	deps: GatewayDeps,
	upstream: UpstreamModels,
	principal: Principal,
): Promise<ModelObject[]> {
	const set = deps.providers();
	const out = listModels(set)
		.filter((m) =>
			set.groups.has(m.id)
				? isGroupAllowed(principal.models, m.id)
				: isModelAllowed(principal.models, { requested: m.id, model: m.id, provider: m.owned_by }),
		)
		.map((m) => model(m.id, m.owned_by));
	const seen = new Set(out.map((m) => m.id));
	const patterned = [...set.providers.values()].filter((p) => [...p.models].some(isModelPattern));
	const lists = await Promise.all(patterned.map((p) => upstream.list(p)));
	patterned.forEach((provider, i) => {
		const patterns = [...provider.models].filter(isModelPattern);
		for (const id of lists[i]) {
			const qualified = `${provider.name}/${id}`;
			if (seen.has(qualified) || !patterns.some((p) => matchesModelPattern(p, id))) continue;
			if (!isModelAllowed(principal.models, { requested: qualified, model: id, provider: provider.name })) continue;
			seen.add(qualified);
			out.push(model(qualified, provider.name));
		}
	});
	return out;
}

/** `GET /v1/models/{id}`: the model as it resolves for a request (aliases and `provider/model` ids too). */
export function modelFor(deps: GatewayDeps, principal: Principal, id: string): ModelObject {
	const set = deps.providers();
	// the allowlist is applied as for a request: 404 for what does not resolve, then 403
	const targets = resolveModel(id, set, deps.config.aliases, principal.models);
	return model(id, set.groups.has(id) ? GROUP_OWNER : targets[0].provider.name);
}
