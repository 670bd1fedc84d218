import type { Authenticator, Principal } from "../auth/principal.ts";
import type { GatewayConfig } from "../config/types.ts";
import type { Admit } from "../limits/admit.ts";
import type { Balance } from "../limits/balance.ts";
import type { Logger } from "../logging/logger.ts";
import type { ProviderSet } from "../providers/provider-registry.ts";
import type { AccountSelector } from "../routing/account-selector.ts";
import type { AccountSlots } from "../routing/failover.ts";
import type { Tracing } from "../telemetry/tracing.ts";
import type { RequestBodySink } from "../usage/request-body-event.ts";
import type { PriceLookup, RecordListener, UsageSink } from "../usage/request-record.ts";
import type { DrainState } from "./drain-state.ts";

/** Everything the data plane needs, injected so tests can build an app without listening. */
export interface GatewayDeps {
	config: GatewayConfig;
	logger: Logger;
	auth: Authenticator;
	/** Current providers (swapped when admins change them). */
	providers: () => ProviderSet;
	selector: AccountSelector;
	/** With Redis: accounts' max_concurrency held by the whole fleet. */
	accountSlots?: AccountSlots;
	usage: UsageSink;
	/** Where logged request and response bodies go (`log_bodies`); absent = bodies are never kept. */
	bodies?: RequestBodySink;
	prices: PriceLookup;
	recordListeners: RecordListener[];
	/** In-flight accounting for graceful drain; absent in unit tests. */
	drain?: DrainState;
	/** Limits: throws a GatewayError (429/403) or admits. Absent = no limits. */
	admit?: Admit;
	/** The caller's own limits and usage (GET /v1/token/balance). Absent = no limits. */
	balance?: (principal: Principal) => Balance;
	/** OpenTelemetry traces; absent = off (no span objects on the request path). */
	tracing?: Tracing;
}
