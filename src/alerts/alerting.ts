import type { Sql } from "postgres";
import type { AlertsPolicy, AlertWebhookConfig } from "../config/alerts-config.ts";
import type { SecretBox } from "../crypto/secret-box.ts";
import type { LimitTable } from "../limits/limit-table.ts";
import type { Logger } from "../logging/logger.ts";
import { MetricsRegistry, type MetricsSnapshot } from "../metrics/registry.ts";
import type { UpstreamTargetGuard } from "../providers/upstream-target-guard.ts";
import type { AccountStateTable } from "../routing/account-state-table.ts";
import type { AuditWriterStats } from "../usage/audit-protocol.ts";
import { AlertEvaluator } from "./alert-evaluator.ts";
import { type BudgetSubject, loadBudgetSubjects, readAccounts, readBudgets } from "./readings.ts";
import { WebhookDispatcher, type WebhookTarget } from "./webhook-dispatcher.ts";
import { configTargets, storedTargets } from "./webhook-store.ts";

export interface AlertingOptions {
	policy: AlertsPolicy;
	webhooks: readonly AlertWebhookConfig[];
	sql: Sql;
	box: SecretBox;
	limitTable: LimitTable;
	accountTable: AccountStateTable;
	audit: () => AuditWriterStats;
	logger: Logger;
	guard?: UpstreamTargetGuard;
}

export interface Alerting {
	metrics(): MetricsSnapshot;
	stop(): void;
}

/** Budgets and stored webhooks are re-read from Postgres every this many evaluations. */
const RELOAD_EVERY = 5;

/**
 * The instance's one alert loop (started by the supervisor, so HTTP workers never alert twice):
 * every `interval_ms` it reads the shared limit and account tables and the usage writer's
 * counters, turns crossings into alerts, and hands them to the webhook dispatcher.
 */
export function startAlerting(o: AlertingOptions): Alerting {
	const evaluator = new AlertEvaluator(o.policy);
	const dispatcher = new WebhookDispatcher({
		policy: o.policy,
		guard: o.guard,
		onGiveUp: (target, alert, reason) =>
			o.logger.warn({ webhook: target.id, alert: alert.id, event: alert.event, reason }, "alert webhook gave up"),
	});
	const fromConfig = configTargets(o.webhooks);
	let stored: WebhookTarget[] = [];
	let subjects: BudgetSubject[] = [];
	let evaluations = 0;
	let alerts = 0;
	let running = false;

	const reload = async () => {
		try {
			[stored, subjects] = await Promise.all([
				storedTargets(o.sql, o.box, (id) => o.logger.error({ webhook: id }, "alert webhook secret cannot be opened")),
				loadBudgetSubjects(o.sql),
			]);
		} catch (err) {
			// Postgres away: keep the last lists (the audit_spool alert is what tells about it)
			o.logger.debug({ err }, "alert loop could not reload webhooks and budgets");
		}
	};

	const tick = async () => {
		if (running) return;
		running = true;
		try {
			if (evaluations % RELOAD_EVERY === 0) await reload();
			const now = Date.now();
			const found = evaluator.evaluate({
				now,
				budgets: readBudgets(o.limitTable, subjects, now),
				accounts: readAccounts(o.accountTable),
				audit: o.audit(),
			});
			evaluations++;
			const targets = [...fromConfig, ...stored];
			for (const alert of found) {
				alerts++;
				o.logger.info({ alert: alert.id, event: alert.event, details: alert.details }, alert.title);
				dispatcher.dispatch(alert, targets);
			}
		} finally {
			running = false;
		}
	};
	void tick();
	const timer = setInterval(() => void tick(), o.policy.interval_ms);

	return {
		metrics() {
			const reg = new MetricsRegistry();
			const s = dispatcher.stats();
			reg.set("interchange_alert_evaluations_total", "Runs of the alert evaluator", "", evaluations, "counter");
			reg.set("interchange_alerts_total", "Alerts raised", "", alerts, "counter");
			reg.set("interchange_alert_deliveries_total", "Alert deliveries a webhook accepted", "", s.sent, "counter");
			reg.set(
				"interchange_alert_delivery_failures_total",
				"Failed alert delivery attempts (each retry counts)",
				"",
				s.failedAttempts,
				"counter",
			);
			reg.set(
				"interchange_alert_deliveries_dropped_total",
				"Alert deliveries given up on (queue full, or every attempt failed)",
				"",
				s.dropped + s.failed,
				"counter",
			);
			return reg.snapshot();
		},
		stop() {
			clearInterval(timer);
			dispatcher.stop();
		},
	};
}
