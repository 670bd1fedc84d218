import { describe, expect, test } from "bun:test";
import { createRedactor } from "../../src/logging/redact-secrets.ts";
import { BodyWriter, bodyRow, deleteOldBodies } from "../../src/usage/body-writer.ts";
import { useTestDatabase } from "../support/test-database.ts";
import { waitFor } from "../support/wait-for.ts";

const t = useTestDatabase();
const enc = new TextEncoder();
const redact = createRedactor();

const sse = (events: unknown[]): Uint8Array[] =>
	events.map((e) => enc.encode(`data: ${JSON.stringify(e)}\n\n`)).concat([enc.encode("data: [DONE]\n\n")]);

describe("body rows", () => {
	test("a chat stream is reassembled into its text and whole tool calls", () => {
		const chunks = sse([
			{ choices: [{ index: 0, delta: { role: "assistant", content: "Hel" } }] },
			{ choices: [{ index: 0, delta: { content: "lo" } }] },
			{
				choices: [
					{
						index: 0,
						delta: { tool_calls: [{ index: 0, id: "call_1", function: { name: "get", arguments: '{"q":' } }] },
					},
				],
			},
			{ choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '"x"}' } }] } }] },
		]);
		// split mid-event: the framer joins them
		const joined = Buffer.concat(chunks);
		const row = bodyRow(
			{
				request_id: "r1",
				ts: 0,
				key_id: "k",
				request: null,
				response: { kind: "sse", chunks: [joined.subarray(0, 50), joined.subarray(50)], truncated: false },
			},
			65_536,
			redact,
		);
		expect(row.stream).toBe(true);
		expect(JSON.parse(row.response_body as string)).toEqual({
			text: "Hello",
			tool_calls: [{ id: "call_1", name: "get", arguments: '{"q":"x"}' }],
		});
	});

	test("an Anthropic stream's text and tool_use blocks are reassembled", () => {
		const chunks = sse([
			{ type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
			{ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Hi there" } },
			{
				type: "content_block_start",
				index: 1,
				content_block: { type: "tool_use", id: "tu_1", name: "find", input: {} },
			},
			{ type: "content_block_delta", index: 1, delta: { type: "input_json_delta", partial_json: '{"a":1}' } },
		]);
		const row = bodyRow(
			{ request_id: "r2", ts: 0, key_id: null, request: null, response: { kind: "sse", chunks, truncated: false } },
			65_536,
			redact,
		);
		expect(JSON.parse(row.response_body as string)).toEqual({
			text: "Hi there",
			tool_calls: [{ id: "tu_1", name: "find", arguments: '{"a":1}' }],
		});
	});

	test("bodies are redacted before the cap, cut on a character boundary and flagged", () => {
		const request = `${"é".repeat(1_000)} sk-abcdefghijklmnopqrstuvwxyz`;
		const row = bodyRow({ request_id: "r3", ts: 0, key_id: null, request, response: null }, 1_024, redact);
		expect(row.request_truncated).toBe(true);
		expect(Buffer.byteLength(row.request_body as string)).toBeLessThanOrEqual(1_024);
		expect(row.request_body).not.toContain("\uFFFD");
		const small = bodyRow(
			{ request_id: "r4", ts: 0, key_id: null, request: "key sk-abcdefghijklmnopqrstuvwxyz", response: null },
			1_024,
			redact,
		);
		expect(small.request_body).toBe("key [REDACTED]");
		expect(small.request_truncated).toBe(false);
	});
});

describe("BodyWriter", () => {
	test("writes rows, drops what exceeds its queue (counted), and retention deletes old ones", async () => {
		const writer = new BodyWriter({
			databaseUrl: t.tdb.url,
			maxBodyBytes: 65_536,
			redactPatterns: [],
			retentionDays: 7,
			maxQueue: 2,
			batchSize: 10,
			flushIntervalMs: 10_000,
		});
		const old = Date.now() - 10 * 86_400_000;
		writer.add([
			{ request_id: "w1", ts: Date.now(), key_id: "k", request: "{}", response: { kind: "text", text: "{}" } },
			{ request_id: "w2", ts: old, key_id: "k", request: "{}", response: null },
			{ request_id: "w3", ts: Date.now(), key_id: "k", request: "{}", response: null },
		]);
		await writer.flush();
		expect(writer.stats()).toMatchObject({ rowsWritten: 2, rowsDropped: 1, queueDepth: 0, lastError: null });
		const ids = async () =>
			(await t.db.sql<{ request_id: string }[]>`select request_id from request_bodies order by request_id`).map(
				(r) => r.request_id,
			);
		await waitFor(async () => (await ids()).length === 2);
		expect(await deleteOldBodies(t.db.sql, 7)).toBe(1);
		expect(await ids()).toEqual(["w1"]);
		await writer.stop();
	});
});
