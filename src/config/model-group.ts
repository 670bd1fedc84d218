import { type Static, Type as t } from "@sinclair/typebox";

/** `ordered`: targets tried in list order; `weighted`: the first picked by weight, the rest in order. */
export const MODEL_GROUP_STRATEGIES = ["ordered", "weighted"] as const;
export type ModelGroupStrategy = (typeof MODEL_GROUP_STRATEGIES)[number];

/** No `/` in a group's name: `provider/model` stays unambiguous. */
export const MODEL_GROUP_NAME = /^[a-zA-Z0-9_.:-]{1,128}$/;
/** Every target may be one attempt: more than this is past any sensible attempt cap. */
export const MAX_GROUP_TARGETS = 16;
const MAX_WEIGHT = 1_000_000;

const Targets = t.Array(t.String({ minLength: 1, maxLength: 300 }), { minItems: 1, maxItems: MAX_GROUP_TARGETS });
const Strategy = t.Union(MODEL_GROUP_STRATEGIES.map((s) => t.Literal(s)));
const Weights = t.Union(
	[t.Array(t.Integer({ minimum: 0, maximum: MAX_WEIGHT }), { maxItems: MAX_GROUP_TARGETS }), t.Null()],
	{
		description: `a list of integers from 0 to ${MAX_WEIGHT} (one per target), or null`,
	},
);

/**
 * The one model-group shape: `[[model_groups]]` in the config file, the admin API's bodies and
 * model_groups rows. Targets are `provider/model` or a bare model id, resolved as a request's
 * model would be (a bare id served by several providers brings them all, in order).
 */
export const ModelGroupBody = t.Object(
	{
		name: t.String({ pattern: MODEL_GROUP_NAME.source, description: "1 to 128 letters, digits, '_', '.', ':' or '-'" }),
		targets: Targets,
		strategy: t.Optional(Strategy),
		weights: t.Optional(Weights),
	},
	{ additionalProperties: false },
);
export const ModelGroupPatch = t.Object(
	{ targets: t.Optional(Targets), strategy: t.Optional(Strategy), weights: t.Optional(Weights) },
	{ additionalProperties: false },
);
export type ModelGroupInput = Static<typeof ModelGroupBody>;
export type ModelGroupPatchInput = Static<typeof ModelGroupPatch>;

export interface ModelGroupConfig {
	name: string;
	targets: string[];
	strategy: ModelGroupStrategy;
	/** `weighted` only: one per target. */
	weights: number[] | null;
}

/** What a schema cannot say: weights go with `weighted`, one per target, not all zero. */
export function modelGroupProblem(g: ModelGroupConfig): { field: string; message: string } | null {
	if (g.strategy !== "weighted") {
		return g.weights === null ? null : { field: "weights", message: 'weights need strategy = "weighted"' };
	}
	if (g.weights === null || g.weights.length !== g.targets.length) {
		return { field: "weights", message: `strategy "weighted" needs one weight per target (${g.targets.length})` };
	}
	if (!g.weights.some((w) => w > 0)) return { field: "weights", message: "at least one weight must be above 0" };
	return null;
}
