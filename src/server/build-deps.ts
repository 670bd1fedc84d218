import type { Authenticator } from "../auth/principal.ts";
import { StaticKeyAuthenticator } from "../auth/static-key-authenticator.ts";
import type { GatewayConfig } from "../config/types.ts";
import type { GatewayDeps } from "../data-plane/gateway-deps.ts";
import type { Logger } from "../logging/logger.ts";
import type { MetricsRegistry } from "../metrics/registry.ts";
import { type KnownModel, requestMetricsListener } from "../metrics/request-metrics.ts";
import type { AccountRef } from "../providers/account-ref.ts";
import { buildProviderSet, type ProviderSet } from "../providers/provider-registry.ts";
import { AccountHealth } from "../routing/account-health.ts";
import { AccountStateTable } from "../routing/account-state-table.ts";
import { DEFAULT_MAX_LANES, ModelLanes } from "../routing/model-lanes.ts";
import { createPoolAccountSelector } from "../routing/pool-account-selector.ts";
import { StickySessions } from "../routing/sticky-sessions.ts";
import type { RequestBodySink } from "../usage/request-body-event.ts";
import type { PriceLookup, RecordListener, UsageSink } from "../usage/request-record.ts";
import type { UsageEvent } from "../usage/usage-event.ts";

export interface DepsInput {
	config: GatewayConfig;
	logger: Logger;
	accountTable: AccountStateTable;
	usage: UsageSink;
	bodies?: RequestBodySink;
	prices: PriceLookup;
	metrics: MetricsRegistry;
	auth?: Authenticator;
	/** Current providers (the catalog: config merged with the database); default: config only. */
	providers?: () => ProviderSet;
	/** Limits (src/limits/admission.ts); absent = none. */
	admit?: GatewayDeps["admit"];
	balance?: GatewayDeps["balance"];
	health?: AccountHealth;
	/** Per-(account, model) health over the shared lane table; default: a table of its own. */
	lanes?: ModelLanes;
	/** Told once when an upstream 401/403 disables an account. */
	onAccountDisabled?: (account: AccountRef, status: number) => void;
	/** This worker's tracer; absent = tracing off. */
	tracing?: GatewayDeps["tracing"];
	/** With Redis: accounts' max_concurrency held by the whole fleet. */
	accountSlots?: GatewayDeps["accountSlots"];
}

/** Slots come from the shared table, so every worker agrees on them without talking. */
function providerSetFor(config: GatewayConfig, table: AccountStateTable): ProviderSet {
	return buildProviderSet(config.providers, config.routing, (p, a) => table.slotFor(p, a), config.model_groups);
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

/**
 * Models that may be metric label values: those a provider lists (read from the current
 * set, so admin changes count at once) and alias targets.
 */
function knownModels(config: GatewayConfig, providers: () => ProviderSet): KnownModel {
	const aliased = new Set(config.aliases.flatMap((a) => [a.to, a.to.slice(a.to.indexOf("/") + 1)]));
	return (provider, model) => providers().providers.get(provider)?.models.has(model) === true || aliased.has(model);
}

/** Warns once per model (per process) that its requests are served with an unknown cost. */
function unpricedWarning(logger: Logger): RecordListener {
	const warned = new Set<string>();
	return (ev: UsageEvent) => {
		if (ev.cost_usd !== null || ev.model === null || warned.has(ev.model)) return;
		// model names can come from clients (provider/anything): remember a bounded few
		if (warned.size < 1_000) warned.add(ev.model);
		logger.warn(
			{ model: ev.model, provider: ev.provider },
			"model has no price: its requests are logged with cost_usd null; add it under [[prices]] or PUT /admin/prices",
		);
	};
}

/** The data plane's dependencies, as one HTTP worker (or a test) runs them. */
export function buildGatewayDeps(input: DepsInput): GatewayDeps {
	const { config, logger } = input;
	const fixed = input.providers ? null : providerSetFor(config, input.accountTable);
	const policy = { maxRetryAfterMs: config.routing.max_retry_after_ms };
	const health = input.health ?? new AccountHealth(input.accountTable, policy);
	const lanes = input.lanes ?? new ModelLanes(AccountStateTable.create(DEFAULT_MAX_LANES), input.accountTable, policy);
	const providers = input.providers ?? (() => fixed as ProviderSet);
	return {
		config,
		logger,
		auth: input.auth ?? new StaticKeyAuthenticator(config.auth.static_keys, config.auth.static_keys_rpm),
		providers,
		selector: createPoolAccountSelector({
			health,
			lanes,
			sticky: new StickySessions(),
			onDisabled: input.onAccountDisabled,
		}),
		usage: input.usage,
		bodies: input.bodies,
		prices: input.prices,
		recordListeners: [
			requestMetricsListener(input.metrics, knownModels(config, providers)),
			logLine(logger),
			unpricedWarning(logger),
		],
		admit: input.admit,
		balance: input.balance,
		tracing: input.tracing,
		accountSlots: input.accountSlots,
	};
}
