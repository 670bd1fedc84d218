import type { Authenticator } from "../auth/principal.ts";
import { StaticKeyAuthenticator } from "../auth/static-key-authenticator.ts";
import type { GatewayConfig } from "../config/types.ts";
import type { GatewayDeps } from "../data-plane/gateway-deps.ts";
import type { Logger } from "../logging/logger.ts";
import type { MetricsRegistry } from "../metrics/registry.ts";
import { requestMetricsListener } from "../metrics/request-metrics.ts";
import { buildProviderSet, type ProviderSet } from "../providers/provider-registry.ts";
import { AccountHealth } from "../routing/account-health.ts";
import type { AccountStateTable } from "../routing/account-state-table.ts";
import { createPoolAccountSelector } from "../routing/pool-account-selector.ts";
import { StickySessions } from "../routing/sticky-sessions.ts";
import type { PriceLookup, RecordListener, UsageSink } from "../usage/request-record.ts";
import type { UsageEvent } from "../usage/usage-event.ts";

export interface DepsInput {
	config: GatewayConfig;
	logger: Logger;
	accountTable: AccountStateTable;
	usage: UsageSink;
	prices: PriceLookup;
	metrics: MetricsRegistry;
	auth?: Authenticator;
	/** Current providers (the catalog: config merged with the database); default: config only. */
	providers?: () => ProviderSet;
	/** Limits (src/limits/admission.ts); absent = none. */
	admit?: GatewayDeps["admit"];
	health?: AccountHealth;
}

/** Slots come from the shared table, so every worker agrees on them without talking. */
function providerSetFor(config: GatewayConfig, table: AccountStateTable): ProviderSet {
	return buildProviderSet(config.providers, config.routing, (p, a) => table.slotFor(p, a));
}

function logLine(logger: Logger): RecordListener {
	return (ev: UsageEvent) => {
		// the level check first: building the line is the cost when it is not written
		if (ev.status < 500 ? !logger.isLevelEnabled("info") : !logger.isLevelEnabled("warn")) return;
		const fields = {
			request_id: ev.request_id,
			client_request_id: ev.client_request_id ?? undefined,
			method: "POST",
			path: ev.endpoint,
			status: ev.status,
			latency_ms: ev.latency_ms,
			ttft_ms: ev.ttft_ms ?? undefined,
			model: ev.model,
			provider: ev.provider,
			account: ev.account,
			attempts: ev.attempts,
			stream: ev.stream,
			tokens: ev.total_tokens,
			error_code: ev.error_code ?? undefined,
			key_id: ev.key_id ?? undefined,
		};
		if (ev.status >= 500) logger.warn(fields, "request");
		else logger.info(fields, "request");
	};
}

/** The data plane's dependencies, as one HTTP worker (or a test) runs them. */
export function buildGatewayDeps(input: DepsInput): GatewayDeps {
	const { config, logger } = input;
	const fixed = input.providers ? null : providerSetFor(config, input.accountTable);
	const health = input.health ?? new AccountHealth(input.accountTable);
	return {
		config,
		logger,
		auth: input.auth ?? new StaticKeyAuthenticator(config.auth.static_keys, config.auth.static_keys_rpm),
		providers: input.providers ?? (() => fixed as ProviderSet),
		selector: createPoolAccountSelector({ health, sticky: new StickySessions() }),
		usage: input.usage,
		prices: input.prices,
		recordListeners: [requestMetricsListener(input.metrics), logLine(logger)],
		admit: input.admit,
	};
}
