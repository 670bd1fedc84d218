import { Elysia } from "elysia";
import type { Sql } from "postgres";
import type { AlertWebhookConfig } from "../config/alerts-config.ts";
import type { PriceConfig } from "../config/model-price.ts";
import type { GatewayConfig } from "../config/types.ts";
import type { ChangeBus } from "../control/change-bus.ts";
import type { SecretBox } from "../crypto/secret-box.ts";
import { GatewayError } from "../errors/gateway-error.ts";
import type { Limiter } from "../limits/limiter.ts";
import type { ProviderCatalog } from "../providers/provider-catalog.ts";
import type { AccountHealth } from "../routing/account-health.ts";
import type { AccountRecovery } from "../routing/account-recovery.ts";
import type { ModelLanes } from "../routing/model-lanes.ts";
import type { PriceBook } from "../usage/cost.ts";
import { accountStateRoutes } from "./account-state.ts";
import { AdminAuditLog, AuditQuery } from "./admin-audit.ts";
import { adminGuard } from "./admin-auth.ts";
import { bindAdminCaller } from "./admin-caller.ts";
import { AdminLoginService } from "./admin-login.ts";
import { loginRoutes, sessionRoutes } from "./admin-login-routes.ts";
import { readQuery } from "./admin-query.ts";
import { ADMIN_ROUTES } from "./admin-route-table.ts";
import { AlertService, alertRoutes } from "./alerts.ts";
import { toCsv } from "./csv.ts";
import { KeyService, keyRoutes } from "./keys.ts";
import { logDetailRoutes } from "./log-detail.ts";
import { ModelGroupService, modelGroupRoutes } from "./model-groups.ts";
import { buildOpenApiDocument } from "./openapi.ts";
import { PriceService, priceRoutes } from "./prices.ts";
import { ProviderService } from "./provider-service.ts";
import { providerRoutes } from "./providers.ts";
import { renderReferencePage } from "./reference-page.ts";
import { TenantService, tenantRoutes } from "./tenants.ts";
import type { UpstreamUrlPolicy } from "./url-safety.ts";
import { LogParams, queryLogs, queryUsage, UsageParams } from "./usage-queries.ts";

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
	/** `[admin]`: the token switch, session and challenge lifetimes, login attempts. */
	admin: GatewayConfig["admin"];
	sql: Sql;
	/** Absent: only the read API (logs, usage, audit) is mounted. */
	control?: AdminControl;
	/** A proxy in front sets x-forwarded-for: the audit trail takes the client address from it. */
	trustProxy?: boolean;
	/** The gateway's version, shown in the OpenAPI document. */
	version?: string;
}

/** /admin/*: every route behind the admin token; services hold the logic. */
export function createAdminRoutes(deps: AdminDeps) {
	const bus = deps.control?.bus ?? null;
	const login = new AdminLoginService(deps.sql, bus, deps.admin);
	bus?.subscribe((event) => {
		if (event.kind === "admin-sessions") login.dropCache();
	});
	const guard = adminGuard({ adminToken: deps.adminToken, tokenEnabled: deps.admin.token_enabled, sessions: login });
	const audit = new AdminAuditLog(deps.sql);
	const openApi = buildOpenApiDocument(ADMIN_ROUTES, deps.version ?? "dev");
	const reference = renderReferencePage(openApi);
	const guarded = new Elysia({ name: "admin", prefix: "/admin" })
		// destructured, never passed whole: Elysia reads the body only for hooks that may use it,
		// and an unauthenticated body must stay unread
		.resolve(async ({ request, server, set }) => {
			const actor = await guard(request);
			const requestId = set.headers["x-request-id"];
			bindAdminCaller(
				{ request, server, requestId: typeof requestId === "string" ? requestId : null },
				actor,
				deps.trustProxy === true,
			);
			return { actor };
		})
		.use(sessionRoutes(login, audit))
		.get("/openapi.json", () => openApi)
		.get("/reference", () => new Response(reference, { headers: { "content-type": "text/html; charset=utf-8" } }))
		.get("/logs", ({ request }) => queryLogs(deps.sql, readQuery(LogParams, request)))
		.get("/usage", async ({ request }) => {
			const q = readQuery(UsageParams, request);
			if (q.format !== undefined && q.format !== "json" && q.format !== "csv")
				throw new GatewayError("PLATFORM_INVALID_REQUEST", "format must be json or csv", { param: "format" });
			const answer = await queryUsage(deps.sql, q);
			const csv = q.format === "csv" || (q.format === undefined && wantsCsv(request));
			if (!csv) return answer;
			return new Response(toCsv(answer.columns, answer.data as unknown as Record<string, unknown>[]), {
				headers: {
					"content-type": "text/csv; charset=utf-8",
					"content-disposition": 'attachment; filename="usage.csv"',
					"x-truncated": String(answer.truncated),
				},
			});
		})
		.get("/audit", ({ request }) => audit.list(readQuery(AuditQuery, request)))
		.use(logDetailRoutes(deps.sql));
	// the login itself is open: it is how a caller with no credential yet gets a session
	const app = new Elysia({ name: "admin-root" }).use(loginRoutes(login));
	const c = deps.control;
	if (!c) return app.use(guarded);
	return app.use(
		guarded
			.use(keyRoutes(new KeyService(deps.sql, c.bus, c.limiter ?? null), audit))
			.use(tenantRoutes(new TenantService(deps.sql, c.bus), audit))
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
					audit,
				),
			)
			.use(modelGroupRoutes(new ModelGroupService(deps.sql, c.catalog, c.bus), audit))
			.use(accountStateRoutes({ catalog: c.catalog, health: c.health, lanes: c.lanes, recovery: c.recovery }, audit))
			.use(priceRoutes(new PriceService(deps.sql, c.prices, c.configPrices, c.bus), audit))
			.use(alertRoutes(new AlertService(deps.sql, c.box, c.upstreamPolicy, c.alertWebhooks ?? []), audit)),
	);
}

/** Accept: text/csv (a spreadsheet or curl asking for CSV) and not JSON first. */
function wantsCsv(request: Request): boolean {
	const accept = request.headers.get("accept") ?? "";
	const csv = accept.indexOf("text/csv");
	const json = accept.indexOf("application/json");
	return csv >= 0 && (json < 0 || csv < json);
}
