import { mkdirSync } from "node:fs";
import { AdminLoginService } from "../admin/admin-login.ts";
import { validateUpstreamUrl } from "../admin/url-safety.ts";
import { type Alerting, startAlerting } from "../alerts/alerting.ts";
import type { GatewayConfig } from "../config/types.ts";
import { createDb } from "../db/client.ts";
import { type EmbeddedPostgres, startEmbeddedPostgres } from "../db/embedded.ts";
import { runMigrations } from "../db/migrate.ts";
import { startPartitionMaintenance } from "../db/partitions.ts";
import { LimitTable } from "../limits/limit-table.ts";
import { Limiter } from "../limits/limiter.ts";
import { restoreUsage } from "../limits/restore-usage.ts";
import type { Logger } from "../logging/logger.ts";
import { redactUrl, redactUrls } from "../logging/redact-url.ts";
import { EventLoopLag } from "../metrics/process-metrics.ts";
import { type MetricsSnapshot, mergeSnapshots, renderPrometheus } from "../metrics/registry.ts";
import { secretBoxFor } from "../providers/provider-catalog.ts";
import { UpstreamTargetGuard } from "../providers/upstream-target-guard.ts";
import { AccountStateTable } from "../routing/account-state-table.ts";
import { DEFAULT_MAX_LANES } from "../routing/model-lanes.ts";
import { AuditWriterClient } from "../usage/audit-writer-client.ts";
import { BodyWriterClient } from "../usage/body-writer-client.ts";
import { ESTIMATE_DEADLINE_MS } from "../usage/token-counter.ts";
import { claimPort } from "./claim-port.ts";
import { startInstanceCensus } from "./instance-census.ts";
import { bodyWriterMetrics, supervisorMetrics } from "./supervisor-metrics.ts";
import type { FromHttpWorker, ToHttpWorker } from "./worker-protocol.ts";

export interface RunningGateway {
	port: number;
	/** Graceful stop: drain HTTP workers, flush usage, close the database. */
	shutdown(reason: string): Promise<void>;
}

const COLLECT_TIMEOUT_MS = 2_000;

/**
 * The main thread: database (embedded or real) and migrations, shared memory, the audit
 * writer, N HTTP workers, metrics aggregation and graceful drain. It serves no HTTP itself.
 */
export async function startSupervisor(config: GatewayConfig, logger: Logger, version: string): Promise<RunningGateway> {
	// first, before anything slow: a port someone else holds is a startup error
	claimPort(config.server.host, config.server.port);
	let embedded: EmbeddedPostgres | null = null;
	let databaseUrl = config.database.url;
	mkdirSync(config.database.data_dir, { recursive: true });
	if (!databaseUrl) {
		embedded = await startEmbeddedPostgres(config.database.data_dir);
		databaseUrl = embedded.url;
		logger.info({ data_dir: config.database.data_dir }, "embedded Postgres (PGlite) started");
	} else {
		logger.info({ database: redactUrl(databaseUrl) }, "using Postgres");
	}
	await runMigrations(databaseUrl);
	// several instances on one Postgres without Redis: say that limits are per instance
	const stopCensus = !embedded && !config.redis.url ? startInstanceCensus(databaseUrl, logger) : null;
	// daily partitions ahead of time, and retention by dropping whole days (no bloat, no long locks)
	const maintenanceDb = createDb(databaseUrl, { max: 1 });
	const stopMaintenance = startPartitionMaintenance(maintenanceDb.sql, {
		retentionDays: config.database.retention_days || undefined,
		onError: (err) => logger.warn({ err }, "request_logs partition maintenance failed"),
	});

	let auditDown = false;
	const audit = new AuditWriterClient({
		databaseUrl,
		dataDir: config.database.data_dir,
		batchSize: config.audit.batch_size,
		flushIntervalMs: config.audit.flush_interval_ms,
		maxQueue: config.audit.max_queue,
		onError: (err) => logger.error({ err }, "usage writer thread failed"),
		onStats: (stats) => {
			// log each change of the writer's health once, not every stats tick
			if (stats.down !== auditDown) {
				auditDown = stats.down;
				if (stats.down)
					logger.error(
						{ error: stats.lastError && redactUrls(stats.lastError) },
						"usage writer cannot reach Postgres: spooling",
					);
				else logger.info({ spool_pending: stats.spoolPending }, "usage writer reconnected to Postgres");
			}
		},
	});
	await audit.start();

	// The body writer's thread starts with the first logged body: most gateways never log one.
	let bodies: Promise<BodyWriterClient | null> | null = null;
	const bodyWriter = (): Promise<BodyWriterClient | null> => {
		bodies ??= (async () => {
			const client = new BodyWriterClient({
				databaseUrl,
				maxBodyBytes: config.logging.max_body_bytes,
				redactPatterns: config.logging.redact_patterns,
				retentionDays: config.logging.body_retention_days,
				onError: (err) => logger.error({ err }, "body writer thread failed"),
			});
			try {
				await client.start();
				return client;
			} catch (err) {
				logger.error({ err }, "body writer did not start: request bodies are not stored");
				return null;
			}
		})();
		return bodies;
	};

	const accountTable = AccountStateTable.create();
	const modelLaneTable = AccountStateTable.create(DEFAULT_MAX_LANES);
	const limitTable = new LimitTable({
		onFull: (subject) => logger.error({ subject }, "limit table full: subject served without per-key limits"),
	});
	// quotas and budgets survive a restart: seed them from request_logs before any worker serves
	if (config.admin.public_keys.length > 0) {
		const added = await new AdminLoginService(maintenanceDb.sql, null, config.admin).enrol(config.admin.public_keys);
		logger.info({ added, given: config.admin.public_keys.length }, "admin public keys enrolled");
	}
	await restoreUsage(maintenanceDb.sql, new Limiter(limitTable)).then(
		(r) => logger.info({ subjects: r.subjects }, "quota and budget counters restored"),
		(err) => logger.error({ err }, "could not restore quota and budget counters from request_logs"),
	);
	const alerting = await startAlertLoop(
		config,
		maintenanceDb.sql,
		limitTable,
		accountTable,
		() => audit.stats(),
		logger,
	);
	// several workers share the port through SO_REUSEPORT (Linux); claimPort checked it was free
	const count = process.platform === "linux" ? Math.max(1, config.server.http_workers) : 1;
	const reusePort = count > 1;
	const workers: Worker[] = [];
	const listening = new Set<number>();
	let port = config.server.port;
	let nextCollect = 1;
	const collects = new Map<number, { snaps: MetricsSnapshot[]; done: () => void }>();
	const drained = new Set<number>();
	let onDrained: (() => void) | null = null;

	const lag = new EventLoopLag().start();
	const renderMetrics = async (): Promise<string> => {
		const id = nextCollect++;
		const snaps: MetricsSnapshot[] = [];
		await new Promise<void>((resolve) => {
			const timer = setTimeout(resolve, COLLECT_TIMEOUT_MS);
			collects.set(id, {
				snaps,
				done: () => {
					clearTimeout(timer);
					resolve();
				},
			});
			for (const w of workers) w.postMessage({ type: "collect-metrics", id } satisfies ToHttpWorker);
		});
		collects.delete(id);
		snaps.push(supervisorMetrics(accountTable, modelLaneTable, audit.stats(), lag), alerting.metrics());
		const bodyStats = (await bodies)?.stats();
		if (bodyStats) snaps.push(bodyWriterMetrics(bodyStats));
		return renderPrometheus(mergeSnapshots(snaps));
	};

	let readyResolve: () => void = () => {};
	let readyReject: (e: Error) => void = () => {};
	const allListening = new Promise<void>((res, rej) => {
		readyResolve = res;
		readyReject = rej;
	});

	for (let index = 0; index < count; index++) {
		const worker = new Worker(new URL("./http-worker.ts", import.meta.url));
		workers.push(worker);
		// a worker that dies outside a shutdown leaves its share of the port unserved: say so
		// loudly and stop the whole process, so the process manager restarts a complete gateway
		worker.addEventListener("close", () => {
			if (shuttingDown) return;
			logger.fatal({ worker: index }, "HTTP worker exited unexpectedly: stopping the gateway");
			void shutdown("worker exit").then(() => process.exit(1));
		});
		worker.onmessage = (e: MessageEvent<FromHttpWorker>) => {
			const msg = e.data;
			switch (msg.type) {
				case "usage":
					if (config.audit.enabled) audit.writeLines(msg.lines, msg.count);
					break;
				case "bodies":
					void bodyWriter().then((w) => w?.write(msg.events));
					break;
				case "listening":
					listening.add(msg.index);
					port = msg.port;
					if (listening.size === count) readyResolve();
					break;
				case "scrape":
					void renderMetrics().then((text) =>
						worker.postMessage({ type: "metrics-text", id: msg.id, text } satisfies ToHttpWorker),
					);
					break;
				case "metrics-snapshot": {
					const c = collects.get(msg.id);
					if (c) {
						c.snaps.push(msg.snapshot);
						if (c.snaps.length === workers.length) c.done();
					}
					break;
				}
				case "drained":
					if (msg.forced) logger.warn({ worker: msg.index }, "drain timeout: open requests were cut");
					drained.add(msg.index);
					if (drained.size === count) onDrained?.();
					break;
				case "fatal":
					logger.fatal({ worker: msg.index, error: redactUrls(msg.message) }, "HTTP worker failed to start");
					readyReject(new Error(msg.message));
					break;
			}
		};
		worker.postMessage({
			type: "init",
			index,
			config,
			databaseUrl,
			accountTable: accountTable.buffer,
			modelLaneTable: modelLaneTable.buffer,
			limitTable: limitTable.buffer,
			reusePort,
			version,
		} satisfies ToHttpWorker);
	}

	await allListening;
	for (const w of workers) w.postMessage({ type: "ready" } satisfies ToHttpWorker);
	logger.info({ port, http_workers: count, reuse_port: reusePort }, "interchange listening");

	let shuttingDown: Promise<void> | null = null;
	const shutdown = (reason: string): Promise<void> => {
		if (shuttingDown) return shuttingDown;
		shuttingDown = (async () => {
			logger.info({ reason }, "draining");
			alerting.stop();
			const allDrained = new Promise<void>((resolve) => {
				onDrained = resolve;
				if (drained.size === count) resolve();
			});
			for (const w of workers) {
				w.postMessage({ type: "drain", timeoutMs: config.server.drain_timeout_ms } satisfies ToHttpWorker);
			}
			// workers cut what is left at drain_timeout; the extra margin covers the usage estimates
			// of the streams they cut, and their flush
			await Promise.race([allDrained, Bun.sleep(config.server.drain_timeout_ms + ESTIMATE_DEADLINE_MS + 5_000)]);
			const flushed = await audit.flush(15_000);
			if (!flushed.ok) logger.warn({ pending: flushed.pending }, "usage rows kept in the spool for the next start");
			await audit.stop();
			await (await bodies)?.stop();
			stopMaintenance();
			await stopCensus?.();
			await maintenanceDb.close().catch(() => {});
			for (const w of workers) w.terminate();
			await embedded?.stop();
			logger.info("stopped");
		})();
		return shuttingDown;
	};

	return { port, shutdown };
}

/**
 * The alert loop, in the supervisor: one evaluator per instance, so alerts are never doubled by
 * HTTP workers. In production a TOML webhook pointing at a private address is a startup error
 * (the admin API's check) and every send checks the address again.
 */
async function startAlertLoop(
	config: GatewayConfig,
	sql: Parameters<typeof startAlerting>[0]["sql"],
	limitTable: LimitTable,
	accountTable: AccountStateTable,
	audit: () => ReturnType<AuditWriterClient["stats"]>,
	logger: Logger,
): Promise<Alerting> {
	const production = config.env !== "dev";
	const allowlist = (process.env.GATEWAY_UPSTREAM_ALLOWLIST ?? "")
		.split(",")
		.map((h) => h.trim())
		.filter(Boolean);
	if (production) {
		for (const [i, w] of config.alerts.entries()) {
			await validateUpstreamUrl(w.url, { production, allowlist }).catch((e: Error) => {
				throw new Error(`config: alerts[${i}].url: ${e.message.replaceAll("base_url", "url")}`);
			});
		}
	}
	return startAlerting({
		policy: config.alerts_policy,
		webhooks: config.alerts,
		sql,
		box: secretBoxFor(config).box,
		limitTable,
		accountTable,
		audit,
		logger,
		guard: production ? new UpstreamTargetGuard({ allowlist }) : undefined,
	});
}
