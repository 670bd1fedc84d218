import type { ModelGroupRuntime, ModelTarget } from "../providers/provider-registry.ts";

/** A group's targets resolved against its provider set, and its weighted rotation. */
interface GroupRoute {
	/** Per configured target that resolves: the places it stands for (a bare id's whole pool). */
	entries: (readonly ModelTarget[])[];
	/** Every entry's places in configuration order: the `ordered` answer, computed once. */
	ordered: readonly ModelTarget[];
	weights: number[];
	/** Smooth weighted round robin state: exact proportions, interleaved, per worker. */
	current: number[];
	total: number;
}

const routes = new WeakMap<ModelGroupRuntime, GroupRoute>();

/**
 * Where a request for the group goes, in order. `ordered`: the targets as listed; `weighted`: the
 * first picked by weight (smooth weighted round robin, so counts follow the weights exactly over
 * each cycle in a worker), then the rest in list order as fallbacks. Targets nothing serves
 * (a provider since removed) are left out; null when none is left. `resolve` resolves one
 * target name against the group's own provider set (the group object belongs to one set).
 */
export function groupTargets(
	group: ModelGroupRuntime,
	resolve: (name: string) => readonly ModelTarget[] | null,
): readonly ModelTarget[] | null {
	let route = routes.get(group);
	if (!route) {
		route = routeOf(group, resolve);
		routes.set(group, route);
	}
	if (route.entries.length === 0) return null;
	if (group.strategy !== "weighted" || route.entries.length === 1) return route.ordered;
	let best = -1;
	for (let i = 0; i < route.entries.length; i++) {
		route.current[i] += route.weights[i];
		if (route.weights[i] > 0 && (best < 0 || route.current[i] > route.current[best])) best = i;
	}
	if (best < 0) return route.ordered;
	route.current[best] -= route.total;
	const out = [...route.entries[best]];
	for (let i = 0; i < route.entries.length; i++) if (i !== best) out.push(...route.entries[i]);
	return out;
}

function routeOf(group: ModelGroupRuntime, resolve: (name: string) => readonly ModelTarget[] | null): GroupRoute {
	const entries: (readonly ModelTarget[])[] = [];
	const weights: number[] = [];
	group.targets.forEach((name, i) => {
		const targets = resolve(name);
		if (!targets) return;
		entries.push(targets);
		weights.push(group.weights?.[i] ?? 1);
	});
	return {
		entries,
		ordered: entries.flat(),
		weights,
		current: weights.map(() => 0),
		total: weights.reduce((a, b) => a + b, 0),
	};
}
