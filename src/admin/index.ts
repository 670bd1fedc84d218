import { Elysia } from "elysia";
import type { Sql } from "postgres";
import type { PriceConfig } from "../config/model-price.ts";
import type { GatewayConfig } from "../config/types.ts";
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
import { AdminLoginService } from "./admin-login.ts";
import { loginRoutes, sessionRoutes } from "./admin-login-routes.ts";
import { KeyService, keyRoutes } from "./keys.ts";
import { PriceService, priceRoutes } from "./prices.ts";
import { ProviderService } from "./provider-service.ts";
import { providerRoutes } from "./providers.ts";
import { TenantService, tenantRoutes } from "./tenants.ts";
import type { UpstreamUrlPolicy } from "./url-safety.ts";
import { queryLogs, queryUsage } from "./usage-queries.ts";

/** What the write side of the admin API needs (keys, tenants, providers, prices). */
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
}

export interface AdminDeps {
	adminToken: string | undefined;
	/** `[admin]`: the token switch, session and challenge lifetimes, login attempts. */
	admin: GatewayConfig["admin"];
	sql: Sql;
	/** Absent: only the read API (logs, usage) is mounted. */
	control?: AdminControl;
}

/**
 * /admin/*: the login routes, then every other route behind the admin guard (the admin token or
 * a session); services hold the logic. The guard's actor is on the context as `actor`.
 */
export function createAdminRoutes(deps: AdminDeps) {
	const bus = deps.control?.bus ?? null;
	const login = new AdminLoginService(deps.sql, bus, deps.admin);
	bus?.subscribe((event) => {
		if (event.kind === "admin-sessions") login.dropCache();
	});
	const guard = adminGuard({ adminToken: deps.adminToken, tokenEnabled: deps.admin.token_enabled, sessions: login });
	const guarded = new Elysia({ name: "admin", prefix: "/admin" })
		.resolve(async ({ request }) => ({ actor: await guard(request) }))
		.use(sessionRoutes(login))
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
		}));
	const app = new Elysia({ name: "admin-root" }).use(loginRoutes(login));
	const c = deps.control;
	if (!c) return app.use(guarded);
	return app.use(
		guarded
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
			.use(accountStateRoutes({ catalog: c.catalog, health: c.health, lanes: c.lanes, recovery: c.recovery }))
			.use(priceRoutes(new PriceService(deps.sql, c.prices, c.configPrices, c.bus))),
	);
}
