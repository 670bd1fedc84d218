import type { GatewayConfig } from "../config/types.ts";
import { labels, type MetricsSnapshot, MetricsRegistry } from "../metrics/registry.ts";
import { AccountPool } from "../routing/account-pool.ts";
import type { AccountStateTable } from "../routing/account-state-table.ts";
import type { AuditWriterStats } from "../usage/audit-protocol.ts";
import { providerSetFor } from "./build-deps.ts";

/** Process-wide series the supervisor owns: the audit pipeline and per-account live state. */
export function supervisorMetrics(config: GatewayConfig, table: AccountStateTable, audit: AuditWriterStats): MetricsSnapshot {
	const reg = new MetricsRegistry();
	reg.set("interchange_audit_queue_depth", "Usage rows in memory, not yet written", "", audit.queueDepth);
	reg.set("interchange_audit_batches_written_total", "Batches inserted into Postgres", "", audit.batchesWritten, "counter");
	reg.set("interchange_audit_rows_written_total", "Usage rows inserted into Postgres", "", audit.rowsWritten, "counter");
	reg.set("interchange_audit_rows_spooled_total", "Usage rows spilled to the spool file", "", audit.rowsSpooled, "counter");
	reg.set("interchange_audit_rows_replayed_total", "Usage rows replayed from the spool", "", audit.rowsReplayed, "counter");
	reg.set("interchange_audit_spool_pending_rows", "Rows in the spool not replayed yet", "", audit.spoolPending);
	reg.set("interchange_audit_rows_dropped_total", "Usage rows lost (must stay 0)", "", audit.rowsDropped, "counter");
	reg.set("interchange_audit_database_down", "1 while Postgres is unreachable for the writer", "", audit.down ? 1 : 0);

	const set = providerSetFor(config, table);
	for (const provider of set.providers.values()) {
		const pool = new AccountPool(provider.accounts, table, { strategy: provider.strategy });
		for (const a of pool.snapshot()) {
			const l = labels({ provider: a.provider, account: a.name });
			reg.set("interchange_account_inflight", "Requests in flight per upstream account", l, a.inflight);
			reg.set(
				"interchange_account_healthy",
				"1 when the account is available, 0 when ejected, cooling down or disabled",
				l,
				a.state === "available" || a.state === "half_open" ? 1 : 0,
			);
			reg.set("interchange_account_error_ratio", "Recent error ratio per account", l, a.error_ratio);
			reg.set("interchange_account_ewma_ttft_seconds", "EWMA time to first byte per account", l, (a.ewma_ttft_ms ?? 0) / 1000);
			reg.set("interchange_account_attempts_total", "Upstream attempts per account", l, a.attempts, "counter");
			reg.set("interchange_account_failures_total", "Failed upstream attempts per account", l, a.failures, "counter");
			reg.set("interchange_account_ejections_total", "Passive ejections per account", l, a.ejections, "counter");
			reg.set("interchange_account_cooldowns_total", "Rate-limit cooldowns per account", l, a.cooldowns, "counter");
		}
	}
	return reg.snapshot();
}
