import { GatewayError } from "../errors/gateway-error.ts";
import type { Operation } from "./operations.ts";
import { PROTOCOLS } from "./registry.ts";
import type { PlanFactory, PlanInput, UpstreamPlan } from "./upstream-plan.ts";

/** Client operations that other protocols carry over a common-shape (OpenAI chat) upstream. */
const OVER_COMMON: Partial<Record<Operation, PlanFactory>> = Object.assign(
	{},
	...Object.values(PROTOCOLS).map((p) => p.overCommon ?? {}),
);

/** Which way a request travels, by what the client speaks and what the upstream speaks. */
export function choosePlan(input: PlanInput): UpstreamPlan {
	const adapter = PROTOCOLS[input.provider.preset.protocol];
	const factory = adapter?.plans[input.op] ?? (adapter?.speaksCommon ? OVER_COMMON[input.op] : undefined);
	if (factory) return factory(input);
	throw new GatewayError(
		"PLATFORM_INVALID_REQUEST",
		`The model '${input.requestedModel}' is served by provider '${input.provider.name}', which does not support this endpoint`,
		{ param: "model" },
	);
}
