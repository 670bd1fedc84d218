import { describe, expect, test } from "bun:test";
import { type Db, isEmbeddedUrl } from "../../src/db/client.ts";
import { copyLine, parseCopyLine, splitCopyLines } from "../../src/usage/copy-line.ts";
import { copyRequestLogs, insertRequestLogs } from "../../src/usage/insert-request-logs.ts";
import type { UsageEvent } from "../../src/usage/usage-event.ts";
import { useTestDatabase } from "../support/test-database.ts";
import { makeUsageEvent } from "../support/usage-events.ts";

const t = useTestDatabase();

type Writer = (sql: Db["sql"], rows: readonly UsageEvent[]) => Promise<number>;
/** COPY is the writer's path for fresh rows on a real Postgres; PGlite only takes the INSERT. */
const writers = (): [string, Writer][] => [
	["insert", insertRequestLogs],
	...(isEmbeddedUrl(t.tdb.url)
		? []
		: ([["copy", (sql, rows) => copyRequestLogs(sql, rows.map(copyLine))]] as [string, Writer][])),
];

describe("request_logs writers", () => {
	test("COPY text escapes separators and marks nulls", () => {
		const text = copyLine(makeUsageEvent({ user_agent: "a\tb\nc\\d", ttft_ms: null, ts: Date.UTC(2026, 0, 2) }));
		const fields = text.slice(0, -1).split("\t");
		expect(fields).toHaveLength(26);
		expect(fields[0]).toBe("2026-01-02T00:00:00.000Z");
		expect(fields[15]).toBe("\\N"); // ttft_ms
		expect(fields[24]).toBe("a\\tb\\nc\\\\d");
		expect(text.endsWith("\n")).toBe(true);
	});

	test("every column lands in its own place: a line with a distinct value per column reads back whole", () => {
		const event: UsageEvent = {
			ts: Date.UTC(2026, 10, 22, 23, 59, 59, 7),
			request_id: "req-1",
			client_request_id: "client-2",
			key_id: "key-3",
			tenant_id: "tenant-4",
			endpoint: "/v1/endpoint-5",
			requested_model: "requested-6",
			provider: "provider-7",
			account: "account-8",
			model: "model-9",
			stream: true,
			status: 211,
			error_code: "CODE_12",
			attempts: 13,
			latency_ms: 14,
			ttft_ms: 15,
			prompt_tokens: 16,
			completion_tokens: 17,
			cached_tokens: 18,
			cache_write_tokens: 19,
			reasoning_tokens: 20,
			total_tokens: 21,
			cost_usd: 0.22,
			incomplete: false,
			user_agent: "agent-24",
			usage_source: "estimated",
		};
		const line = copyLine(event);
		expect(line.slice(0, 24)).toBe("2026-11-22T23:59:59.007Z");
		expect(parseCopyLine(line)).toEqual(event);
		// milliseconds of every width, and the next second right after a cached one
		for (const ms of [0, 9, 10, 99, 100, 999, 1000]) {
			const ts = Date.UTC(2026, 0, 1) + ms;
			expect(copyLine({ ...event, ts }).slice(0, 24)).toBe(new Date(ts).toISOString());
		}
	});

	test("a COPY line reads back as the event it was made from, odd characters included", () => {
		const events = [
			makeUsageEvent({
				user_agent: "a\tb\nc\\d\re \\N",
				ttft_ms: null,
				cost_usd: 1.25e-7,
				stream: true,
				incomplete: true,
			}),
			makeUsageEvent({ key_id: null, tenant_id: null, error_code: "UPSTREAM_TIMEOUT", status: 504, ttft_ms: 12 }),
		];
		const lines = splitCopyLines(events.map(copyLine).join(""));
		expect(lines).toHaveLength(2);
		expect(lines.map(parseCopyLine)).toEqual(events);
	});

	test("store client-supplied text Postgres cannot hold (NUL, lone surrogates) without failing the batch", async () => {
		for (const [name, write] of writers()) {
			const odd = makeUsageEvent({
				requested_model: `m\u0000odel\t${name}`,
				user_agent: "agent\ud800 x\\y\nz 😀",
				ttft_ms: 12,
				cost_usd: 1.5e-7,
				stream: true,
			});
			expect(await write(t.db.sql, [odd, makeUsageEvent()])).toBe(2);
			const [row] = await t.db.sql`select * from request_logs where request_id = ${odd.request_id}`;
			expect(row.requested_model).toBe(`m\ufffdodel\t${name}`);
			expect(row.user_agent).toBe("agent\ufffd x\\y\nz 😀");
			expect(row.ttft_ms).toBe(12);
			expect(row.cost_usd).toBe(1.5e-7);
			expect(row.stream).toBe(true);
			expect(Number(row.total_tokens)).toBe(odd.total_tokens);
		}
	});

	test("COPY of a row already stored fails with the unique violation (it never hangs); INSERT skips it", async () => {
		const e = makeUsageEvent();
		expect(await insertRequestLogs(t.db.sql, [e])).toBe(1);
		for (const [name, write] of writers()) {
			if (name === "insert") expect(await write(t.db.sql, [e])).toBe(0);
			else await expect(write(t.db.sql, [e, makeUsageEvent()])).rejects.toMatchObject({ code: "23505" });
		}
		// the connection is usable afterwards and nothing of the failed batch was stored
		const [{ n }] = await t.db.sql`select count(*)::int as n from request_logs where request_id = ${e.request_id}`;
		expect(n).toBe(1);
	});
});
