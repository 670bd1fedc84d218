import { type EventLoopLag, recordProcessMetrics, recordThreadMetrics } from "../metrics/process-metrics.ts";
import { labels, MetricsRegistry, type MetricsSnapshot } from "../metrics/registry.ts";
import { ACCOUNT_STATES, AccountHealth } from "../routing/account-health.ts";
import type { AccountStateTable } from "../routing/account-state-table.ts";
import { ModelLanes } from "../routing/model-lanes.ts";
import type { AuditWriterStats } from "../usage/audit-protocol.ts";
import type { BodyWriterStats } from "../usage/body-protocol.ts";

/** Process-wide series the supervisor owns: the process, the audit pipeline and per-account live state. */
export function supervisorMetrics(
	table: AccountStateTable,
	laneTable: AccountStateTable,
	audit: AuditWriterStats,
	lag: EventLoopLag,
): MetricsSnapshot {
	const reg = new MetricsRegistry();
	recordProcessMetrics(reg);
	recordThreadMetrics(reg, "supervisor", lag);
	reg.set("interchange_audit_queue_depth", "Usage rows in memory, not yet written", "", audit.queueDepth);
	reg.set(
		"interchange_audit_batches_written_total",
		"Batches inserted into Postgres",
		"",
		audit.batchesWritten,
		"counter",
	);
	reg.set(
		"interchange_audit_rows_written_total",
		"Usage rows inserted into Postgres",
		"",
		audit.rowsWritten,
		"counter",
	);
	reg.set(
		"interchange_audit_rows_spooled_total",
		"Usage rows spilled to the spool file",
		"",
		audit.rowsSpooled,
		"counter",
	);
	reg.set(
		"interchange_audit_rows_replayed_total",
		"Usage rows replayed from the spool",
		"",
		audit.rowsReplayed,
		"counter",
	);
	reg.set("interchange_audit_spool_pending_rows", "Rows in the spool not replayed yet", "", audit.spoolPending);
	reg.set("interchange_audit_rows_dropped_total", "Usage rows lost (must stay 0)", "", audit.rowsDropped, "counter");
	reg.set(
		"interchange_audit_rows_dead_lettered_total",
		"Usage rows Postgres refused for their data, set aside in request_logs_dead_letter (or the dead-letter file)",
		"",
		audit.rowsDeadLettered,
		"counter",
	);
	reg.set("interchange_audit_database_down", "1 while Postgres is unreachable for the writer", "", audit.down ? 1 : 0);

	// every account any worker ever routed to has a slot with its key, config-file and
	// admin-created ones alike: read them all from the shared table
	const health = new AccountHealth(table);
	const now = Date.now();
	for (let slot = 0; slot < table.capacity; slot++) {
		const key = table.keyOf(slot);
		if (key === null) continue;
		const cut = key.indexOf("/");
		const l = labels({ provider: key.slice(0, cut), account: key.slice(cut + 1) });
		const state = health.availability(slot, now);
		const ewmaUs = table.ewmaTtftUs(slot);
		reg.set("interchange_account_inflight", "Requests in flight per upstream account", l, table.inflight(slot));
		const status = health.status(slot, now);
		for (const s of ACCOUNT_STATES) {
			reg.set(
				"interchange_account_state",
				"1 for the account's current state (healthy, cooling, ejected, disabled), else 0",
				labels({ provider: key.slice(0, cut), account: key.slice(cut + 1), state: s }),
				status.state === s ? 1 : 0,
			);
		}
		reg.set(
			"interchange_account_healthy",
			"1 when the account is available, 0 when ejected, cooling down or disabled",
			l,
			state === "available" || state === "half_open" ? 1 : 0,
		);
		reg.set("interchange_account_error_ratio", "Recent error ratio per account", l, health.errorRatio(slot, now));
		reg.set("interchange_account_ewma_ttft_seconds", "EWMA time to first byte per account", l, ewmaUs / 1_000_000);
		reg.set(
			"interchange_account_attempts_total",
			"Upstream attempts per account",
			l,
			table.counter(slot, "attempts"),
			"counter",
		);
		reg.set(
			"interchange_account_failures_total",
			"Failed upstream attempts per account",
			l,
			table.counter(slot, "failures"),
			"counter",
		);
		reg.set(
			"interchange_account_ejections_total",
			"Passive ejections per account",
			l,
			table.counter(slot, "ejections"),
			"counter",
		);
		reg.set(
			"interchange_account_cooldowns_total",
			"Rate-limit cooldowns per account",
			l,
			table.counter(slot, "cooldowns"),
			"counter",
		);
	}
	// models cooling down or ejected on an account; lanes exist only for models that failed,
	// at most a bounded number per account (model-lanes.ts), so the series stay bounded
	const lanes = new ModelLanes(laneTable, table);
	for (const lane of lanes.all()) {
		const status = lanes.health.status(lane.lane, now);
		if (status.state === "healthy") continue;
		reg.set(
			"interchange_account_model_state",
			"1 per model cooling down or ejected on an account (model-scoped 5xx, 429, timeouts), by state",
			labels({ provider: lane.provider, account: lane.account, model: lane.model, state: status.state }),
			1,
		);
	}
	return reg.snapshot();
}

/** The body writer's series (present once it has started: the first logged body). */
export function bodyWriterMetrics(stats: BodyWriterStats): MetricsSnapshot {
	const reg = new MetricsRegistry();
	reg.set(
		"interchange_body_log_rows_written_total",
		"Logged request/response bodies stored",
		"",
		stats.rowsWritten,
		"counter",
	);
	reg.set(
		"interchange_body_log_dropped_total",
		"Logged bodies dropped (queue full or Postgres refusing them); usage rows are never affected",
		"",
		stats.rowsDropped,
		"counter",
	);
	reg.set("interchange_body_log_queue_depth", "Logged bodies waiting for Postgres", "", stats.queueDepth);
	return reg.snapshot();
}
