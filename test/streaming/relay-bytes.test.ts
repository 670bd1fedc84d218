import { describe, expect, test } from "bun:test";
import { relayBytes } from "../../src/streaming/relay-bytes.ts";
import type { RelayResult } from "../../src/streaming/relay-stream.ts";

function upstream(chunks: Uint8Array[], breakAtEnd = false) {
	let aborted = false;
	let i = 0;
	const body = new ReadableStream<Uint8Array>({
		pull(c) {
			if (i < chunks.length) c.enqueue(chunks[i++]);
			else if (breakAtEnd) c.error(new Error("socket reset"));
			else c.close();
		},
	});
	return { body, abort: () => (aborted = true), aborted: () => aborted };
}

function relay(up: ReturnType<typeof upstream>) {
	const results: RelayResult[] = [];
	const stream = relayBytes({
		body: up.body,
		startedAt: performance.now(),
		abortUpstream: up.abort,
		onEnd: (r) => results.push(r),
	});
	return { stream, results };
}

const bytes = (...xs: number[]) => new Uint8Array(xs);

describe("relayBytes", () => {
	test("every byte in order, then one completed result", async () => {
		const { stream, results } = relay(upstream([bytes(1, 2), bytes(0, 255), bytes(10, 13, 10)]));
		expect([...new Uint8Array(await new Response(stream).arrayBuffer())]).toEqual([1, 2, 0, 255, 10, 13, 10]);
		expect(results).toHaveLength(1);
		expect(results[0]).toMatchObject({ completed: true, cancelled: false, errorCode: null, usage: null });
		expect(results[0].ttftMs).not.toBeNull();
	});

	test("a broken upstream ends the body with an error, adds no bytes of its own", async () => {
		const { stream, results } = relay(upstream([bytes(7, 7)], true));
		const reader = stream.getReader();
		expect([...((await reader.read()).value ?? [])]).toEqual([7, 7]);
		await expect(reader.read()).rejects.toThrow();
		expect(results).toEqual([
			{
				completed: false,
				cancelled: false,
				errorCode: "UPSTREAM_STREAM_BROKEN",
				ttftMs: expect.any(Number),
				usageFinal: true,
				content: expect.anything(),
				usage: null,
			},
		]);
	});

	test("a client that leaves aborts the upstream and is recorded once", async () => {
		const up = upstream([bytes(1), bytes(2), bytes(3)]);
		const { stream, results } = relay(up);
		const reader = stream.getReader();
		await reader.read();
		await reader.cancel();
		expect(up.aborted()).toBe(true);
		expect(results).toHaveLength(1);
		expect(results[0]).toMatchObject({ completed: false, cancelled: true, errorCode: "CLIENT_CLOSED_REQUEST" });
	});
});
