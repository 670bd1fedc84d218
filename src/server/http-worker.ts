/// <reference lib="webworker" />
/**
 * One HTTP worker thread: the whole Elysia app on a reusePort listener. The supervisor
 * sends `init`; usage events go back to it (it feeds the audit writer); `drain` stops
 * accepting, waits for in-flight requests and streams, flushes usage, then says `drained`.
 */
import { createAdminRoutes } from "../admin/index.ts";
import { createApp } from "../app.ts";
import { createAuthenticator } from "../auth/create-authenticator.ts";
import { ChangeBus, type ChangeEvent, type ChangeOrigin } from "../control/change-bus.ts";
import { DrainState } from "../data-plane/drain-state.ts";
import type { GatewayDeps } from "../data-plane/gateway-deps.ts";
import { createDb, type Db, isEmbeddedUrl } from "../db/client.ts";
import { createAdmission } from "../limits/admission.ts";
import { balanceOf } from "../limits/balance.ts";
import { FleetGate } from "../limits/fleet-gate.ts";
import { LimitTable } from "../limits/limit-table.ts";
import { Limiter } from "../limits/limiter.ts";
import { restoreUsage } from "../limits/restore-usage.ts";
import { createLogger, type Logger } from "../logging/logger.ts";
import { redactUrls } from "../logging/redact-url.ts";
import { EventLoopLag, recordThreadMetrics } from "../metrics/process-metrics.ts";
import { MetricsRegistry } from "../metrics/registry.ts";
import { ProviderCatalog, secretBoxFor } from "../providers/provider-catalog.ts";
import { UpstreamTargetGuard } from "../providers/upstream-target-guard.ts";
import { AccountHealth } from "../routing/account-health.ts";
import { AccountRecovery } from "../routing/account-recovery.ts";
import { AccountStateTable } from "../routing/account-state-table.ts";
import { FleetAccountSync } from "../routing/fleet-account-sync.ts";
import { ModelLanes } from "../routing/model-lanes.ts";
import { createTracing, type Tracing } from "../telemetry/tracing.ts";
import { BodyRelay } from "../usage/body-relay.ts";
import { PriceBook } from "../usage/cost.ts";
import { ESTIMATE_DEADLINE_MS } from "../usage/token-counter.ts";
import { UsageRelay } from "../usage/usage-relay.ts";
import { buildGatewayDeps } from "./build-deps.ts";
import { connectFleet, type FleetLink } from "./fleet-link.ts";
import type { FromHttpWorker, ToHttpWorker } from "./worker-protocol.ts";

declare const self: Worker;

const post = (msg: FromHttpWorker) => self.postMessage(msg);

let server: ReturnType<ReturnType<typeof createApp>["listen"]>["server"] = null;
let relay: UsageRelay | null = null;
let bodyRelay: BodyRelay | null = null;
let db: Db | null = null;
let bus: ChangeBus | null = null;
const drainState = new DrainState();
let allReady = false;
let index = -1;
let nextScrape = 1;
const scrapes = new Map<number, (text: string) => void>();
const metrics = new MetricsRegistry();
const lag = new EventLoopLag().start();
let workerLogger: Logger | null = null;
let stopRechecks: (() => void) | null = null;
let fleet: FleetLink | null = null;
let stopSync: (() => void) | null = null;
let tracing: Tracing | null = null;

/** How long /readyz waits on the database: a probe must not hang on a connect timeout. */
const DB_CHECK_MS = 1_000;
let dbCheck: Promise<string | null> | null = null;

/** Null when the database answers, else why not. One check at a time: probes join the pending one. */
function databaseProblem(): Promise<string | null> {
	if (!db) return Promise.resolve("no database connection yet");
	const sql = db.sql;
	dbCheck ??= Promise.race([
		sql`select 1`.then(() => null),
		Bun.sleep(DB_CHECK_MS).then(() => `no answer within ${DB_CHECK_MS} ms`),
	])
		.catch((e: Error) => redactUrls(e.message))
		.finally(() => {
			dbCheck = null;
		});
	return dbCheck;
}

async function boot(init: Extract<ToHttpWorker, { type: "init" }>): Promise<void> {
	index = init.index;
	const { config } = init;
	const logger = createLogger(config.log_level, { worker: index });
	workerLogger = logger;
	db = createDb(init.databaseUrl, { max: 4 });
	const prices = new PriceBook(config.prices);
	await prices.reload(db.sql).catch((e) => logger.warn({ err: e }, "could not load model_prices"));
	relay = new UsageRelay((lines, count) => post({ type: "usage", lines, count }));
	bodyRelay = new BodyRelay(
		(events) => post({ type: "bodies", events }),
		() =>
			metrics.inc(
				"interchange_body_log_dropped_total",
				"Logged bodies dropped (queue full or Postgres refusing them); usage rows are never affected",
				"",
			),
	);
	const sql = db.sql;
	const accountTable = AccountStateTable.fromBuffer(init.accountTable);
	const healthPolicy = { maxRetryAfterMs: config.routing.max_retry_after_ms };
	const health = new AccountHealth(accountTable, healthPolicy);
	const lanes = new ModelLanes(AccountStateTable.fromBuffer(init.modelLaneTable), accountTable, healthPolicy);
	const recovery = new AccountRecovery({ health, lanes, logger });
	const limiter = new Limiter(
		LimitTable.fromBuffer(init.limitTable, {
			onFull: (subject) => logger.error({ subject }, "limit table full: subject served without per-key limits"),
		}),
	);
	fleet = await connectFleet(config, index, logger);
	const { box, devKey } = secretBoxFor(config);
	if (devKey && index === 0) {
		logger.warn(
			"!!! GATEWAY_ENCRYPTION_KEY is not set: provider account keys are sealed with a fixed, PUBLIC dev key. Set GATEWAY_ENCRYPTION_KEY before storing real secrets !!!",
		);
	}
	const allowlist = (process.env.GATEWAY_UPSTREAM_ALLOWLIST ?? "")
		.split(",")
		.map((h) => h.trim())
		.filter(Boolean);
	const production = config.env !== "dev";
	const targetGuard = production ? new UpstreamTargetGuard({ allowlist }) : undefined;
	const catalog = new ProviderCatalog({
		config,
		slotOf: (p, a) => accountTable.slotFor(p, a),
		sql,
		box,
		logger,
		targetGuard,
		onAccountChanged: (account) => recovery.enable(account, "settings_changed"),
	});
	await catalog.reload().catch((e) => logger.error({ err: e }, "could not load providers from the database"));
	// the account table is shared by every worker: one of them re-checks disabled accounts
	if (index === 0) stopRechecks = recovery.startRechecks(() => catalog.current());
	// one thread per instance shares account health with the fleet (the tables are shared by every worker)
	if (index === 0 && fleet) {
		const sync = new FleetAccountSync({
			link: fleet.link,
			holder: fleet.holder,
			prefix: config.redis.key_prefix,
			accounts: accountTable,
			lanes: lanes.table,
			logger,
		});
		sync.start();
		stopSync = () => sync.stop();
	}
	const authn = createAuthenticator({ config, sql, logger });
	// PGlite's socket server does not deliver NOTIFY; with it there is one instance anyway.
	bus = new ChangeBus({ sql: isEmbeddedUrl(init.databaseUrl) ? null : sql, logger });
	// Once per instance: in the worker that published the change (before the others hear of
	// it, so the admin call answers after the seed), and in worker 0 for other instances'.
	const seedOnce = async (ev: Extract<ChangeEvent, { kind: "key" | "tenant" }>, origin: ChangeOrigin) => {
		if (!ev.seed || !(origin === "self" || (origin === "remote" && index === 0))) return;
		await restoreUsage(sql, limiter, Date.now(), { kind: ev.kind, id: ev.id }).catch((err) =>
			logger.warn({ err, subject: `${ev.kind}:${ev.id}` }, "could not seed limit counters from request_logs"),
		);
	};
	bus.subscribe(async (ev, origin) => {
		switch (ev.kind) {
			case "key":
				await seedOnce(ev, origin);
				authn.dropKey(ev.id);
				break;
			case "key-created":
				authn.dropNegative();
				break;
			case "tenant":
				await seedOnce(ev, origin);
				authn.dropAll();
				break;
			case "providers":
			case "model-groups":
				await catalog.reload();
				break;
			case "prices":
				await prices.reload(sql);
				break;
		}
	});
	await bus
		.start()
		.catch((e) =>
			logger.warn({ err: e }, "LISTEN failed: admin changes reach other instances only on their cache expiry"),
		);
	tracing = createTracing(config.telemetry, { version: init.version, worker: index });
	const deps = buildGatewayDeps({
		config,
		logger,
		accountTable,
		usage: relay,
		bodies: bodyRelay,
		prices,
		metrics,
		auth: authn.auth,
		providers: () => catalog.current(),
		admit: createAdmission({
			limiter,
			prices,
			limits: config.limits,
			fleet: fleet ? new FleetGate(fleet.leases, limiter) : undefined,
		}),
		balance: (principal) => balanceOf(limiter, principal),
		health,
		lanes,
		onAccountDisabled: (account, status) => recovery.disabled(account, status),
		tracing: tracing ?? undefined,
		accountSlots: fleet ? accountSlotsOf(fleet.leases) : undefined,
	});
	const app = createApp({
		...deps,
		drain: drainState,
		plugins: [
			createAdminRoutes({
				adminToken: config.auth.admin_token,
				admin: config.admin,
				sql,
				trustProxy: config.server.trust_proxy,
				version: init.version,
				control: {
					bus,
					box,
					catalog,
					health,
					lanes,
					recovery,
					prices,
					configPrices: config.prices,
					upstreamPolicy: { production, allowlist },
					limiter,
					alertWebhooks: config.alerts,
				},
			}),
		],
		ops: {
			version: init.version,
			metricsToken: config.metrics.token,
			// Readiness is the ability to serve. Without Postgres requests are still served
			// (usage is spooled, cached keys authenticate), so the database is a degraded
			// detail: taking every instance out of the load balancer would turn a database
			// outage into a full one.
			readiness: async () => {
				const problem = await databaseProblem();
				return {
					checks: {
						config: "ok",
						workers: allReady ? "ok" : "failing",
						draining: drainState.draining ? "failing" : "ok",
						database: problem === null ? "ok" : "degraded",
						// without Redis each instance enforces its share of every limit: degraded, still serving
						...(fleet ? { redis: fleet.link.up ? "ok" : "degraded" } : {}),
					},
					...detailsOf({
						database: problem,
						redis: fleet && !fleet.link.up ? "unreachable: each instance enforces its share of every limit" : null,
					}),
				};
			},
			metrics: () =>
				new Promise<string>((resolve) => {
					const id = nextScrape++;
					scrapes.set(id, resolve);
					post({ type: "scrape", id });
				}),
		},
	});
	app.listen({
		port: config.server.port,
		hostname: config.server.host,
		reusePort: init.reusePort,
		// long non-streamed answers and slow first tokens must not be cut by the idle timer;
		// data-plane requests also lift it per request (server.timeout(req, 0))
		idleTimeout: 255,
		// Bun answers a bare, body-less 413 past this; the gateway's own limit (an OpenAI-shaped
		// 413 with the request id) must always be the one that triggers
		maxRequestBodySize: Math.max(config.server.max_body_bytes * 4, 1024 * 1024 * 1024),
		// Elysia turns Bun's development mode on unless NODE_ENV=production: never wanted here
		development: false,
	});
	server = app.server;
	post({ type: "listening", index, port: server?.port ?? config.server.port });
}

/** Accounts' max_concurrency as fleet slots, keyed like the account table (`provider/account`). */
function accountSlotsOf(leases: FleetLink["leases"]): NonNullable<GatewayDeps["accountSlots"]> {
	return {
		acquire: (a) => leases.acquireSlot(`account:${a.provider}/${a.name}`, a.maxConcurrency),
		release: (a) => leases.releaseSlot(`account:${a.provider}/${a.name}`),
	};
}

/** Readiness details: only the checks that have something to say. */
function detailsOf(all: Record<string, string | null>): { details?: Record<string, string> } {
	const details: Record<string, string> = {};
	for (const [k, v] of Object.entries(all)) if (v !== null) details[k] = v;
	return Object.keys(details).length ? { details } : {};
}

async function drain(timeoutMs: number): Promise<void> {
	// readiness turns 503 and new data-plane requests get a retryable 503 at once; open
	// requests and streams run to their end (or to the timeout), then the listener closes
	stopRechecks?.();
	const finished = await drainState.drain(timeoutMs);
	const forced = !finished;
	// at the timeout, open streams end with an in-band error event (and their usage so far)
	// rather than a connection reset
	if (forced) drainState.interruptStreams();
	if (server) {
		// records finish just before their last bytes are written: a graceful stop lets
		// those writes complete; what is still open after that is cut
		const graceful = await Promise.race([server.stop(false).then(() => true), Bun.sleep(2_000).then(() => false)]);
		if (!graceful) await server.stop(true);
	}
	// streams cut by a forced stop finish their records on cancel: let those callbacks run,
	// and wait for the ones whose usage is being estimated (bounded by the estimate's deadline)
	await new Promise((r) => setTimeout(r, 0));
	if (forced) await drainState.drain(ESTIMATE_DEADLINE_MS + 500);
	relay?.flushNow();
	stopSync?.();
	await fleet?.stop().catch(() => {});
	await tracing?.shutdown();
	bodyRelay?.flushNow();
	await bus?.close().catch(() => {});
	await db?.close().catch(() => {});
	post({ type: "drained", index, forced });
}

// An uncaught error would end this thread and every request on it; log it and serve on.
process.on("uncaughtException", (err) => workerLogger?.error({ err }, "uncaught exception in HTTP worker"));
process.on("unhandledRejection", (reason) =>
	workerLogger?.error({ err: reason }, "unhandled rejection in HTTP worker"),
);

self.onmessage = (e: MessageEvent<ToHttpWorker>) => {
	const msg = e.data;
	switch (msg.type) {
		case "init":
			boot(msg).catch((err) => post({ type: "fatal", index: msg.index, message: String(err?.stack ?? err) }));
			break;
		case "ready":
			allReady = true;
			break;
		case "drain":
			void drain(msg.timeoutMs);
			break;
		case "collect-metrics":
			fleet?.report(metrics);
			recordThreadMetrics(metrics, `worker-${index}`, lag);
			post({ type: "metrics-snapshot", id: msg.id, snapshot: metrics.snapshot() });
			break;
		case "metrics-text": {
			const resolve = scrapes.get(msg.id);
			scrapes.delete(msg.id);
			resolve?.(msg.text);
			break;
		}
	}
};
