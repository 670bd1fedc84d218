import { describe, expect, test } from "bun:test";
import { runMigrations } from "../../src/db/migrate.ts";
import {
	dropOldRequestLogPartitions,
	ensureRequestLogPartitions,
	listRequestLogPartitions,
	partitionName,
} from "../../src/db/partitions.ts";
import { insertRequestLogs } from "../../src/usage/insert-request-logs.ts";
import { useTestDatabase } from "../support/test-database.ts";
import { makeUsageEvent } from "../support/usage-events.ts";

const t = useTestDatabase();
const DAY = 86_400_000;

describe("migrations", () => {
	test("are idempotent, also when two run at once", async () => {
		await Promise.all([runMigrations(t.tdb.url), runMigrations(t.tdb.url)]);
		await runMigrations(t.tdb.url);
		const tables = await t.db.sql<{ t: string }[]>`
			select tablename as t from pg_tables where schemaname = 'public' and tablename not like 'request_logs_%'
			order by 1`;
		expect(tables.map((r) => r.t)).toEqual([
			"admin_audit",
			"admin_challenges",
			"admin_keys",
			"admin_login_codes",
			"admin_sessions",
			"alert_webhooks",
			"api_keys",
			"model_groups",
			"model_prices",
			"provider_accounts",
			"providers",
			"request_bodies",
			"request_logs",
			"tenants",
		]);
		const [{ kind }] = await t.db.sql<{ kind: string }[]>`
			select relkind::text as kind from pg_class where relname = 'request_logs'`;
		expect(kind).toBe("p"); // partitioned
	});

	test("create daily partitions around today plus a default one", async () => {
		const parts = await listRequestLogPartitions(t.db.sql);
		expect(parts).toContain("request_logs_default");
		for (let i = -1; i <= 7; i++) expect(parts).toContain(partitionName(new Date(Date.now() + i * DAY)));
	});
});

describe("request_logs", () => {
	test("inserts are idempotent on (request_id, ts)", async () => {
		const e = makeUsageEvent({ request_id: "idem_1" });
		expect(await insertRequestLogs(t.db.sql, [e, { ...e }])).toBe(1);
		expect(await insertRequestLogs(t.db.sql, [e])).toBe(0);
		const [{ n }] = await t.db.sql<
			{ n: number }[]
		>`select count(*)::int as n from request_logs where request_id = 'idem_1'`;
		expect(n).toBe(1);
	});

	test("rows outside every partition land in the default one and move out when their day is created", async () => {
		const far = Date.UTC(2031, 0, 15, 12);
		const e = makeUsageEvent({ request_id: "far_1", ts: far });
		expect(await insertRequestLogs(t.db.sql, [e])).toBe(1);
		const where = async () =>
			(
				await t.db.sql<
					{ t: string }[]
				>`select tableoid::regclass::text as t from request_logs where request_id = 'far_1'`
			)[0].t;
		expect(await where()).toBe("request_logs_default");
		const created = await ensureRequestLogPartitions(t.db.sql, {
			now: new Date(far),
			daysBack: 0,
			daysAhead: 0,
		});
		expect(created).toEqual(["request_logs_p20310115"]);
		expect(await where()).toBe("request_logs_p20310115");
		// Still idempotent across the move.
		expect(await insertRequestLogs(t.db.sql, [e])).toBe(0);
		expect(
			await ensureRequestLogPartitions(t.db.sql, {
				now: new Date(far),
				daysBack: 0,
				daysAhead: 0,
			}),
		).toEqual([]);
	});

	test("retention drops whole old partitions only", async () => {
		const old = new Date(Date.now() - 40 * DAY);
		await ensureRequestLogPartitions(t.db.sql, {
			now: old,
			daysBack: 0,
			daysAhead: 0,
		});
		await insertRequestLogs(t.db.sql, [makeUsageEvent({ request_id: "old_1", ts: old.getTime() })]);
		const dropped = await dropOldRequestLogPartitions(t.db.sql, {
			retentionDays: 30,
		});
		expect(dropped).toEqual([partitionName(old)]);
		const parts = await listRequestLogPartitions(t.db.sql);
		expect(parts).not.toContain(partitionName(old));
		expect(parts).toContain(partitionName(new Date()));
		expect(parts).toContain("request_logs_default");
		const [{ n }] = await t.db.sql<
			{ n: number }[]
		>`select count(*)::int as n from request_logs where request_id = 'old_1'`;
		expect(n).toBe(0);
	});
});
