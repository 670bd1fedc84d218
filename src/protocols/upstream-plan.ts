import type { AccountRef } from "../providers/account-ref.ts";
import type { ProviderRuntime } from "../providers/provider-registry.ts";
import type { UpstreamRequest } from "../routing/types.ts";
import type { StreamTransform } from "../streaming/stream-transform.ts";
import type { TokenUsage } from "../usage/token-usage.ts";
import type { FormBody } from "./form-data.ts";
import type { Operation } from "./operations.ts";

/** How one client request is carried to one kind of upstream and back. */
export interface UpstreamPlan {
	build(account: AccountRef): UpstreamRequest;
	streamTransform(): StreamTransform;
	/** A whole (non-streamed) upstream answer → the client's body and the usage it reports. */
	mapBody(bytes: Uint8Array<ArrayBuffer>): { body: string | Uint8Array<ArrayBuffer>; usage: TokenUsage | null };
	/**
	 * The answer is not a document to map but bytes to relay as they arrive, whatever their
	 * type (synthesised speech): no usage is read from them.
	 */
	readonly relaysBytes?: true;
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
	/** A multipart upload, for the operations that take one (`FORM_OPERATIONS`). */
	form?: FormBody;
	/** The client's headers, for the few an upstream should see (anthropic-version, anthropic-beta). */
	clientHeaders?: Headers;
}

export type PlanFactory = (input: PlanInput) => UpstreamPlan;

/**
 * One wire protocol, as the data plane sees it. `plans` are the operations an upstream of this
 * protocol serves: its own (bytes through) and the common shape (OpenAI chat) translated to it.
 * `overCommon` carries this protocol's own client operations to an upstream that speaks the
 * common shape, so every protocol reaches every other through OpenAI chat in one translation.
 */
export interface ProtocolAdapter {
	readonly plans: Partial<Record<Operation, PlanFactory>>;
	/** Set on the protocol whose upstreams speak the common shape natively (OpenAI chat). */
	readonly speaksCommon?: true;
	readonly overCommon?: Partial<Record<Operation, PlanFactory>>;
}
