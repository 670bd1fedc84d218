import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AuditSpool } from "../../src/usage/audit-spool.ts";
import { AuditWriter } from "../../src/usage/audit-writer.ts";
import { copyLine } from "../../src/usage/copy-line.ts";
import type { UsageEvent } from "../../src/usage/usage-event.ts";
import { useTestDatabase } from "../support/test-database.ts";
import { makeUsageEvent } from "../support/usage-events.ts";

const t = useTestDatabase();
const dirs: string[] = [];
const dataDir = () => {
	const d = mkdtempSync(join(tmpdir(), "ix-audit-class-"));
	dirs.push(d);
	return d;
};
const stored = async (prefix: string) => {
	const [r] = await t.db.sql<{ n: number }[]>`
		select count(*)::int as n from request_logs where request_id like ${`${prefix}%`}`;
	return r?.n ?? 0;
};

afterAll(() => {
	for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

// The writer's logic without its thread: the same class the worker shell runs.
describe("AuditWriter (no thread)", () => {
	const config = () => ({
		databaseUrl: t.tdb.url,
		dataDir: dataDir(),
		batchSize: 50,
		flushIntervalMs: 60_000,
		maxQueue: 1_000,
	});

	test("events and COPY lines reach request_logs on flush, each once", async () => {
		const w = new AuditWriter(config(), "class-a");
		w.addEvents(Array.from({ length: 30 }, (_, i) => makeUsageEvent({ request_id: `cls_ev_${i}` })));
		w.addLines(Array.from({ length: 30 }, (_, i) => copyLine(makeUsageEvent({ request_id: `cls_ln_${i}` }))).join(""));
		expect(w.stats().queueDepth).toBeGreaterThan(0);
		expect(await w.flush()).toEqual({ ok: true, pending: 0 });
		expect(await stored("cls_ev_")).toBe(30);
		expect(await stored("cls_ln_")).toBe(30);
		expect(w.stats()).toMatchObject({ queueDepth: 0, rowsWritten: 60, down: false });
		await w.stop();
	});

	test("with Postgres unreachable, flush spools the rows and a new writer replays them", async () => {
		const dir = dataDir();
		const down = new AuditWriter(
			{ ...config(), dataDir: dir, databaseUrl: "postgres://postgres@127.0.0.1:1/none", insertTimeoutMs: 500 },
			"class-b",
		);
		down.addEvents(Array.from({ length: 10 }, (_, i) => makeUsageEvent({ request_id: `cls_sp_${i}` })));
		const res = await down.flush();
		expect(res).toEqual({ ok: false, pending: 10 });
		await down.stop();
		const up = new AuditWriter({ ...config(), dataDir: dir }, "class-b");
		expect(await up.flush()).toEqual({ ok: true, pending: 0 });
		expect(await stored("cls_sp_")).toBe(10);
		expect(up.stats()).toMatchObject({ rowsReplayed: 10, spoolPending: 0 });
		await up.stop();
	});
});

// Rows Postgres refuses for their data (a CHECK, a type) must not read as an outage.
describe("AuditWriter: bad data is not an outage", () => {
	const config = () => ({
		databaseUrl: t.tdb.url,
		dataDir: dataDir(),
		batchSize: 50,
		flushIntervalMs: 60_000,
		maxQueue: 1_000,
	});
	const deadLettered = async (requestId: string) =>
		t.db.sql<{ sqlstate: string; reason: string; line: string }[]>`
			select sqlstate, reason, line from request_logs_dead_letter where request_id = ${requestId}`;
	/** A COPY line whose usage_source breaks request_logs' CHECK constraint (SQLSTATE 23514). */
	const refusedLine = (requestId: string) =>
		copyLine(makeUsageEvent({ request_id: requestId })).replace(/\tupstream\n$/, "\tbogus\n");

	test("a refused row in a batch goes to the dead letter; every other row lands", async () => {
		const w = new AuditWriter(config(), "class-dl");
		const lines = Array.from({ length: 40 }, (_, i) => copyLine(makeUsageEvent({ request_id: `dl_ok_${i}` })));
		const bad = refusedLine("dl_bad_1");
		lines.splice(17, 0, bad);
		w.addLines(lines.join(""));
		expect(await w.flush()).toEqual({ ok: true, pending: 0 });
		expect(await stored("dl_ok_")).toBe(40);
		expect(await stored("dl_bad_")).toBe(0);
		const [row] = await deadLettered("dl_bad_1");
		expect(row?.sqlstate).toBe("23514");
		expect(row?.reason).toContain("usage_source");
		expect(row?.line).toBe(bad);
		expect(w.stats()).toMatchObject({ rowsDeadLettered: 1, rowsSpooled: 0, rowsDropped: 0, down: false });
		// the writer is not wedged: the next rows land at once
		w.addLines(copyLine(makeUsageEvent({ request_id: "dl_after_1" })));
		expect(await w.flush()).toEqual({ ok: true, pending: 0 });
		expect(await stored("dl_after_")).toBe(1);
		await w.stop();
	});

	test("a refused row in the spool is dead-lettered on replay, never replayed into a wedge", async () => {
		const dir = dataDir();
		const spool = new AuditSpool(dir, "class-sp");
		const bad = { ...makeUsageEvent({ request_id: "dlsp_bad_1" }), usage_source: "bogus" } as unknown as UsageEvent;
		spool.writeReleased([
			...Array.from({ length: 5 }, (_, i) => makeUsageEvent({ request_id: `dlsp_ok_${i}` })),
			bad,
			...Array.from({ length: 5 }, (_, i) => makeUsageEvent({ request_id: `dlsp_ok_${i + 5}` })),
		]);
		const w = new AuditWriter({ ...config(), dataDir: dir }, "class-sp");
		expect(await w.flush()).toEqual({ ok: true, pending: 0 });
		expect(await stored("dlsp_ok_")).toBe(10);
		expect((await deadLettered("dlsp_bad_1")).length).toBe(1);
		expect(w.stats()).toMatchObject({ rowsDeadLettered: 1, rowsReplayed: 11, spoolPending: 0 });
		await w.stop();
		// the next start finds nothing left to replay
		const again = new AuditWriter({ ...config(), dataDir: dir }, "class-sp");
		expect(again.stats().spoolPending).toBe(0);
		await again.stop();
	});

	test("when the dead-letter table cannot take the row, it goes to a file under the data dir", async () => {
		const dir = dataDir();
		const bad = refusedLine("dlf_bad_1");
		await t.db.sql`alter table request_logs_dead_letter rename to request_logs_dead_letter_away`;
		try {
			const w = new AuditWriter({ ...config(), dataDir: dir }, "class-df");
			w.addLines(bad + copyLine(makeUsageEvent({ request_id: "dlf_ok_1" })));
			expect(await w.flush()).toEqual({ ok: true, pending: 0 });
			expect(await stored("dlf_ok_")).toBe(1);
			expect(w.stats()).toMatchObject({ rowsDeadLettered: 1, rowsDropped: 0 });
			await w.stop();
		} finally {
			await t.db.sql`alter table request_logs_dead_letter_away rename to request_logs_dead_letter`;
		}
		const files = readdirSync(join(dir, "dead-letter"));
		expect(files.length).toBe(1);
		const entry = JSON.parse(readFileSync(join(dir, "dead-letter", files[0] as string), "utf8").trim());
		expect(entry).toMatchObject({ request_id: "dlf_bad_1", sqlstate: "23514", line: bad });
	});
});
