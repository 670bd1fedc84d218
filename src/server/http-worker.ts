/// <reference lib="webworker" />
/**
 * One HTTP worker thread: the whole Elysia app on a reusePort listener. The supervisor
 * sends `init`; usage events go back to it (it feeds the audit writer); `drain` stops
 * accepting, waits for in-flight requests and streams, flushes usage, then says `drained`.
 */
import { createAdminRoutes } from "../admin/index.ts";
import { createApp } from "../app.ts";
import { createDb, type Db } from "../db/client.ts";
import { createLogger } from "../logging/logger.ts";
import { MetricsRegistry } from "../metrics/registry.ts";
import { AccountStateTable } from "../routing/account-state-table.ts";
import { PriceBook } from "../usage/cost.ts";
import { buildGatewayDeps } from "./build-deps.ts";
import { UsageRelay } from "./usage-relay.ts";
import type { FromHttpWorker, ToHttpWorker } from "./worker-protocol.ts";

declare const self: Worker;

const post = (msg: FromHttpWorker) => self.postMessage(msg);

let server: ReturnType<ReturnType<typeof createApp>["listen"]>["server"] = null;
let relay: UsageRelay | null = null;
let db: Db | null = null;
let draining = false;
let allReady = false;
let index = -1;
let nextScrape = 1;
const scrapes = new Map<number, (text: string) => void>();
const metrics = new MetricsRegistry();

async function dbReady(): Promise<{ ok: boolean; detail?: string }> {
	if (!db) return { ok: false, detail: "no database" };
	try {
		await db.sql`select 1`;
		return { ok: true };
	} catch (e) {
		return { ok: false, detail: (e as Error).message };
	}
}

async function boot(init: Extract<ToHttpWorker, { type: "init" }>): Promise<void> {
	index = init.index;
	const { config } = init;
	const logger = createLogger(config.log_level, { worker: index });
	db = createDb(init.databaseUrl, { max: 4 });
	const prices = new PriceBook(config.prices);
	await prices.reload(db.sql).catch((e) => logger.warn({ err: e }, "could not load model_prices"));
	relay = new UsageRelay((events) => post({ type: "usage", events }));
	const deps = buildGatewayDeps({
		config,
		logger,
		accountTable: AccountStateTable.fromBuffer(init.accountTable),
		usage: relay,
		prices,
		metrics,
	});
	const app = createApp({
		...deps,
		plugins: [createAdminRoutes({ adminToken: config.auth.admin_token, sql: db.sql })],
		ops: {
			version: init.version,
			readiness: async () => {
				const database = await dbReady();
				const checks = {
					config: { ok: true },
					workers: { ok: allReady },
					draining: { ok: !draining },
					database,
				};
				return { ready: allReady && !draining && database.ok, checks };
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
		maxRequestBodySize: config.server.max_body_bytes + 1024 * 1024,
	});
	server = app.server;
	post({ type: "listening", index, port: server?.port ?? config.server.port });
}

async function drain(timeoutMs: number): Promise<void> {
	draining = true;
	let forced = false;
	if (server) {
		const stopping = server.stop(false);
		const timedOut = await Promise.race([
			stopping.then(() => false),
			new Promise<boolean>((r) => setTimeout(() => r(true), timeoutMs).unref()),
		]);
		if (timedOut) {
			forced = true;
			await server.stop(true);
		}
	}
	// streams cut by a forced stop finish their records on cancel: let those callbacks run
	await new Promise((r) => setTimeout(r, 0));
	relay?.flushNow();
	await db?.close().catch(() => {});
	post({ type: "drained", index, forced });
}

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
