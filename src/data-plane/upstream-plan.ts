import type { Operation } from "../providers/operations.ts";
import type { ProviderRuntime } from "../providers/provider-registry.ts";
import type { UpstreamRequest } from "../providers/upstream-request.ts";
import type { AccountRef } from "../routing/types.ts";
import type { StreamTransform } from "../streaming/stream-transform.ts";
import type { TokenUsage } from "../usage/token-usage.ts";

/** How one client request is carried to one kind of upstream and back. */
export interface UpstreamPlan {
	build(account: AccountRef): UpstreamRequest;
	streamTransform(): StreamTransform;
	/** A whole (non-streamed) upstream answer → the client's body and the usage it reports. */
	mapBody(bytes: Uint8Array<ArrayBuffer>): { body: string | Uint8Array<ArrayBuffer>; usage: TokenUsage | null };
}

export interface PlanInput {
	op: Operation;
	provider: ProviderRuntime;
	/** Upstream model id. */
	model: string;
	/** The model string the client sent (echoed back in translated answers). */
	requestedModel: string;
	body: Record<string, unknown>;
	raw: string;
	/** The client's headers, for the few an upstream should see (anthropic-version, anthropic-beta). */
	clientHeaders?: Headers;
}

export type PlanFactory = (input: PlanInput) => UpstreamPlan;
