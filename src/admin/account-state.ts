import { Elysia } from "elysia";
import { GatewayError } from "../errors/gateway-error.ts";
import type { ProviderCatalog } from "../providers/provider-catalog.ts";
import type { AccountHealth } from "../routing/account-health.ts";
import { AccountPool } from "../routing/account-pool.ts";
import type { AccountRecovery } from "../routing/account-recovery.ts";
import type { ModelLanes } from "../routing/model-lanes.ts";
import type { AdminAuditLog } from "./admin-audit.ts";

export interface AccountStateDeps {
	catalog: ProviderCatalog;
	health: AccountHealth;
	lanes: ModelLanes;
	recovery: AccountRecovery;
}

/**
 * POST /admin/providers/:name/accounts/:account/enable: re-enables an account an upstream
 * 401/403 disabled (config-file accounts included) and forgets its cooldowns and ejections,
 * account-wide and per model. Answers the account's state afterwards.
 */
export function accountStateRoutes(d: AccountStateDeps, audit: AdminAuditLog) {
	return new Elysia().post("/providers/:name/accounts/:account/enable", ({ params, request }) => {
		const provider = d.catalog.current().providers.get(params.name);
		const account = provider?.accounts.find((a) => a.name === params.account);
		if (!provider || !account) {
			throw new GatewayError(
				"PLATFORM_NOT_FOUND",
				`No account '${params.account}' of provider '${params.name}' is in service`,
			);
		}
		const state = () => {
			const pool = new AccountPool([account], d.health.table, {
				strategy: provider.strategy,
				health: d.health,
				lanes: d.lanes,
			});
			const [live] = pool.snapshot();
			return { status: live.status, models: live.models };
		};
		return audit.audited(
			request,
			{
				action: "account.enable",
				type: "account",
				id: `${provider.name}/${account.name}`,
				before: async () => state(),
			},
			async () => {
				const wasDisabled = d.recovery.enable(account, "admin");
				return {
					object: "provider_account_state" as const,
					provider: provider.name,
					name: account.name,
					was_disabled: wasDisabled,
					...state(),
				};
			},
		);
	});
}
