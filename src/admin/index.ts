import { Elysia } from "elysia";
import type { Sql } from "postgres";
import type { AlertWebhookConfig } from "../config/alerts-config.ts";
import type { PriceConfig } from "../config/model-price.ts";
import type { ChangeBus } from "../control/change-bus.ts";
import type { SecretBox } from "../crypto/secret-box.ts";
import type { Limiter } from "../limits/limiter.ts";
import type { ProviderCatalog } from "../providers/provider-catalog.ts";
import type { AccountHealth } from "../routing/account-health.ts";
import type { AccountRecovery } from "../routing/account-recovery.ts";
import type { ModelLanes } from "../routing/model-lanes.ts";
import type { PriceBook } from "../usage/cost.ts";
import { accountStateRoutes } from "./account-state.ts";
import { adminGuard } from "./admin-auth.ts";
import { AlertService, alertRoutes } from "./alerts.ts";
import { KeyService, keyRoutes } from "./keys.ts";
import { logDetailRoutes } from "./log-detail.ts";
import { ModelGroupService, modelGroupRoutes } from "./model-groups.ts";
import { PriceService, priceRoutes } from "./prices.ts";
import { ProviderService } from "./provider-service.ts";
import { providerRoutes } from "./providers.ts";
import { TenantService, tenantRoutes } from "./tenants.ts";
import type { UpstreamUrlPolicy } from "./url-safety.ts";
import { queryLogs, queryUsage } from "./usage-queries.ts";

/** What the write side of the admin API needs (keys, tenants, providers, model groups, prices). */
export interface AdminControl {
	/** Spreads changes to every worker and instance; null = this worker only. */
	bus: ChangeBus | null;
	box: SecretBox;
	catalog: ProviderCatalog;
	health: AccountHealth;
	lanes: ModelLanes;
	recovery: AccountRecovery;
	prices: PriceBook;
	configPrices: readonly PriceConfig[];
	upstreamPolicy: UpstreamUrlPolicy;
	/** Shows live quota / budget counters on keys. */
	limiter?: Limiter;
	/** The TOML file's `[[alerts]]` webhooks (listed beside the stored ones). */
	alertWebhooks?: readonly AlertWebhookConfig[];
}

export interface AdminDeps {
	adminToken: string | undefined;
	sql: Sql;
	/** Absent: only the read API (logs, usage) is mounted. */
	control?: AdminControl;
}

/** /admin/*: every route behind the admin token; services hold the logic. */
export function createAdminRoutes(deps: AdminDeps) {
	const guard = adminGuard(deps.adminToken);
	const app = new Elysia({ name: "admin", prefix: "/admin" })
		.onBeforeHandle(({ request }) => {
			guard(request.headers);
		})
		.get("/logs", ({ query }) =>
			queryLogs(deps.sql, {
				key_id: query.key_id,
				model: query.model,
				status: query.status,
				since: query.since,
				until: query.until,
				limit: query.limit,
				cursor: query.cursor,
			}),
		)
		.get("/usage", async ({ query }) => ({
			object: "list",
			group_by: query.group_by ?? "model",
			data: await queryUsage(deps.sql, {
				group_by: query.group_by ?? "model",
				since: query.since,
				until: query.until,
			}),
		}))
		.use(logDetailRoutes(deps.sql));
	const c = deps.control;
	if (!c) return app;
	return app
		.use(keyRoutes(new KeyService(deps.sql, c.bus, c.limiter ?? null)))
		.use(tenantRoutes(new TenantService(deps.sql, c.bus)))
		.use(
			providerRoutes(
				new ProviderService({
					sql: deps.sql,
					box: c.box,
					catalog: c.catalog,
					health: c.health,
					lanes: c.lanes,
					bus: c.bus,
					policy: c.upstreamPolicy,
				}),
			),
		)
		.use(modelGroupRoutes(new ModelGroupService(deps.sql, c.catalog, c.bus)))
		.use(accountStateRoutes({ catalog: c.catalog, health: c.health, lanes: c.lanes, recovery: c.recovery }))
		.use(priceRoutes(new PriceService(deps.sql, c.prices, c.configPrices, c.bus)))
		.use(alertRoutes(new AlertService(deps.sql, c.box, c.upstreamPolicy, c.alertWebhooks ?? [])));
}
