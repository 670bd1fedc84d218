import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AuditWriter } from "../../src/usage/audit-writer.ts";
import { copyLine } from "../../src/usage/copy-line.ts";
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
