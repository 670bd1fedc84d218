import type { Sql } from "postgres";
import { createAdminRoutes } from "../../src/admin/index.ts";
import { createApp } from "../../src/app.ts";
import { buildConfig } from "../../src/config/load-config.ts";
import { SecretBox } from "../../src/crypto/secret-box.ts";
import { createLogger } from "../../src/logging/logger.ts";
import { MetricsRegistry } from "../../src/metrics/registry.ts";
import { ProviderCatalog } from "../../src/providers/provider-catalog.ts";
import { AccountHealth } from "../../src/routing/account-health.ts";
import { AccountRecovery } from "../../src/routing/account-recovery.ts";
import { AccountStateTable } from "../../src/routing/account-state-table.ts";
import { ModelLanes } from "../../src/routing/model-lanes.ts";
import { buildGatewayDeps } from "../../src/server/build-deps.ts";
import { PriceBook } from "../../src/usage/cost.ts";

export interface AdminTestApp {
	app: ReturnType<typeof createApp>;
	catalog: ProviderCatalog;
	accountTable: AccountStateTable;
	health: AccountHealth;
	/** One admin call; `headers` adds to (or overrides) the token header. */
	call(
		method: string,
		path: string,
		opts?: { body?: unknown; headers?: Record<string, string> },
		// biome-ignore lint/suspicious/noExplicitAny: admin answers are read as loose JSON in tests
	): Promise<{ status: number; headers: Headers; text: string; json: any }>;
}

/** The whole app (Elysia, error mapping, request ids) with the admin API, on a test database. */
export async function adminTestApp(
	sql: Sql,
	token: string,
	opts: { file?: Record<string, unknown>; trustProxy?: boolean } = {},
): Promise<AdminTestApp> {
	const config = buildConfig(opts.file ?? {}, { GATEWAY_ADMIN_TOKEN: token });
	const accountTable = AccountStateTable.create();
	const box = new SecretBox(new Uint8Array(32).fill(5));
	const catalog = new ProviderCatalog({ config, slotOf: (p, a) => accountTable.slotFor(p, a), sql, box });
	await catalog.reload();
	const prices = new PriceBook();
	const health = new AccountHealth(accountTable);
	const lanes = new ModelLanes(AccountStateTable.create(64), accountTable);
	const deps = buildGatewayDeps({
		config,
		logger: createLogger("silent"),
		accountTable,
		usage: { write() {} },
		prices,
		metrics: new MetricsRegistry(),
		providers: () => catalog.current(),
		health,
		lanes,
	});
	const app = createApp({
		...deps,
		ops: { version: "t", readiness: () => ({ ready: true, checks: {} }), metrics: () => "" },
		plugins: [
			createAdminRoutes({
				adminToken: token,
				admin: config.admin,
				sql,
				trustProxy: opts.trustProxy,
				control: {
					bus: null,
					box,
					catalog,
					health,
					lanes,
					recovery: new AccountRecovery({ health, lanes }),
					prices,
					configPrices: [],
					upstreamPolicy: { production: false, allowlist: [] },
				},
			}),
		],
	});
	return {
		app,
		catalog,
		accountTable,
		health,
		async call(method, path, o = {}) {
			const res = await app.handle(
				new Request(`http://localhost/admin${path}`, {
					method,
					headers: { "x-admin-token": token, "content-type": "application/json", ...o.headers },
					body: o.body === undefined ? undefined : JSON.stringify(o.body),
				}),
			);
			const text = await res.text();
			let json: unknown = null;
			try {
				json = JSON.parse(text);
			} catch {}
			return { status: res.status, headers: res.headers, text, json };
		},
	};
}
