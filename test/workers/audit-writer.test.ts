import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AuditWriterClient } from "../../src/usage/audit-writer-client.ts";
import { copyLine } from "../../src/usage/copy-line.ts";
import { startTcpProxy } from "../support/tcp-proxy.ts";
import { useTestDatabase } from "../support/test-database.ts";
import { makeUsageEvent } from "../support/usage-events.ts";
import { waitFor } from "../support/wait-for.ts";

const t = useTestDatabase();
const dirs: string[] = [];
const dataDir = () => {
	const d = mkdtempSync(join(tmpdir(), "ix-audit-"));
	dirs.push(d);
	return d;
};
const countRows = async (prefix: string) => {
	const [r] = await t.db.sql<{ n: number; d: number }[]>`
		select count(*)::int as n, count(distinct request_id)::int as d
		from request_logs where request_id like ${`${prefix}%`}`;
	return r;
};

afterAll(async () => {
	for (const d of dirs) rmSync(d, { recursive: true, force: true });
}, 30_000);

describe("audit writer", () => {
	test("batches by size, and a repeated request id is stored once", async () => {
		const w = new AuditWriterClient({
			databaseUrl: t.tdb.url,
			dataDir: dataDir(),
			batchSize: 200,
			flushIntervalMs: 1_000,
		});
		await w.start();
		const events = Array.from({ length: 1_000 }, (_, i) => makeUsageEvent({ request_id: `batch_${i}` }));
		for (const e of events) w.write(e);
		w.write({ ...events[7] }); // a replay of the same request
		// Size triggers without flush(): 1,000 rows = 5 full batches, long before the 1 s timer.
		await waitFor(async () => (await countRows("batch_")).n === 1_000, {
			what: "1,000 rows",
		});
		expect(await w.flush(10_000)).toEqual({ ok: true, pending: 0 });
		expect(await countRows("batch_")).toEqual({ n: 1_000, d: 1_000 });
		expect(w.stats().batchesWritten).toBeGreaterThanOrEqual(5);
		await w.stop();
	});

	test("rows sent as COPY lines are stored as they are; an unreadable line is dropped and counted, never wedging its batch", async () => {
		const w = new AuditWriterClient({
			databaseUrl: t.tdb.url,
			dataDir: dataDir(),
			batchSize: 500,
			flushIntervalMs: 20,
		});
		await w.start();
		const lines = [0, 1, 2].map((i) => copyLine(makeUsageEvent({ request_id: `lines_${i}`, user_agent: "tab\there" })));
		w.writeLines(`${lines[0]}not a usage row\n${lines[1]}${lines[2]}`, 4);
		expect(await w.flush(10_000)).toEqual({ ok: true, pending: 0 });
		expect(await countRows("lines_")).toEqual({ n: 3, d: 3 });
		const [row] = await t.db.sql`select user_agent from request_logs where request_id = 'lines_1'`;
		expect(row.user_agent).toBe("tab\there");
		await waitFor(() => w.stats().rowsDropped === 1, { what: "the dropped line to be counted" });
		await w.stop();
	});

	test("batches by time: a few rows are written without a flush", async () => {
		const w = new AuditWriterClient({
			databaseUrl: t.tdb.url,
			dataDir: dataDir(),
			batchSize: 500,
			flushIntervalMs: 30,
		});
		await w.start();
		for (let i = 0; i < 3; i++) w.write(makeUsageEvent({ request_id: `timed_${i}` }));
		await waitFor(async () => (await countRows("timed_")).n === 3, {
			what: "3 timed rows",
		});
		await w.stop();
	});

	test("replays a spool file left by a previous run on start", async () => {
		const dir = dataDir();
		mkdirSync(join(dir, "spool"), { recursive: true });
		// The pid of a process that has exited: its files are up for replay.
		const gone = Bun.spawn(["true"]);
		await gone.exited;
		const rows = Array.from({ length: 250 }, (_, i) => makeUsageEvent({ request_id: `spooled_${i}` }));
		const file = join(dir, "spool", `audit-${Date.now()}-${gone.pid}-w9-1.ndjson`);
		// A duplicate line, as after a crash between INSERT and delete.
		writeFileSync(file, `${[...rows, rows[0]].map((r) => JSON.stringify(r)).join("\n")}\n`);
		const w = new AuditWriterClient({ databaseUrl: t.tdb.url, dataDir: dir });
		await w.start();
		await waitFor(async () => (await countRows("spooled_")).n === 250 && !existsSync(file), {
			what: "spool replayed",
		});
		expect(await countRows("spooled_")).toEqual({ n: 250, d: 250 });
		expect(w.stats().rowsDropped).toBe(0);
		await w.stop();
	});

	test("loses no row while Postgres is cut off, then catches up", async () => {
		const target = new URL(t.tdb.url);
		const proxy = startTcpProxy({
			host: target.hostname,
			port: Number(target.port || 5432),
		});
		const viaProxy = new URL(t.tdb.url);
		viaProxy.port = String(proxy.port);
		const dir = dataDir();
		const w = new AuditWriterClient({
			databaseUrl: viaProxy.toString(),
			dataDir: dir,
			batchSize: 100,
			flushIntervalMs: 20,
			maxQueue: 300, // small, so the outage must reach the spool file
			insertTimeoutMs: 2_000,
			statsIntervalMs: 50,
		});
		await w.start();
		let written = 0;
		const writeSome = () => {
			for (let i = 0; i < 25; i++) w.write(makeUsageEvent({ request_id: `loss_${written++}` }));
		};
		const ticker = setInterval(writeSome, 10);
		try {
			await waitFor(async () => (await countRows("loss_")).n > 200, {
				what: "rows before the cut",
			});
			proxy.cut();
			const cutAt = written;
			await waitFor(() => w.stats().down && w.stats().rowsSpooled > 0 && written > cutAt + 1_000, {
				what: "writer down and spooling",
			});
			// Let the outage last a while beyond that: backoff grows, more rows spool.
			const outageEnd = Date.now() + 1_500;
			await waitFor(() => Date.now() >= outageEnd, { timeoutMs: 5_000 });
			proxy.restore();
			const restoredAt = written;
			await waitFor(() => written > restoredAt + 500, {
				what: "rows after restore",
			});
		} finally {
			clearInterval(ticker);
		}
		const res = await w.flush(20_000);
		expect(res).toEqual({ ok: true, pending: 0 });
		const stats = w.stats();
		await w.stop();
		proxy.stop();
		expect(await countRows("loss_")).toEqual({ n: written, d: written });
		expect(stats.rowsDropped).toBe(0);
		expect(stats.rowsSpooled).toBeGreaterThan(0);
		expect(stats.rowsReplayed).toBe(stats.rowsSpooled);
		expect(readdirSync(join(dir, "spool"))).toEqual([]);
	});

	test("flush while Postgres is down spools everything and reports pending", async () => {
		const target = new URL(t.tdb.url);
		const proxy = startTcpProxy({
			host: target.hostname,
			port: Number(target.port || 5432),
		});
		const viaProxy = new URL(t.tdb.url);
		viaProxy.port = String(proxy.port);
		const dir = dataDir();
		proxy.cut();
		const w = new AuditWriterClient({
			databaseUrl: viaProxy.toString(),
			dataDir: dir,
			insertTimeoutMs: 2_000,
		});
		await w.start();
		for (let i = 0; i < 40; i++) w.write(makeUsageEvent({ request_id: `down_${i}` }));
		expect(await w.flush(10_000)).toEqual({ ok: false, pending: 40 });
		await w.stop();
		expect(w.stats().rowsDropped).toBe(0);
		// The next writer (Postgres reachable) replays the files the first one released at stop.
		proxy.restore();
		const w2 = new AuditWriterClient({ databaseUrl: t.tdb.url, dataDir: dir });
		await w2.start();
		expect(await w2.flush(10_000)).toEqual({ ok: true, pending: 0 });
		expect(await countRows("down_")).toEqual({ n: 40, d: 40 });
		await w2.stop();
		proxy.stop();
	});
});
