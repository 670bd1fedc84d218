import { describe, expect, test } from "bun:test";
import { connect } from "node:net";
import { OpenAIStreamTap } from "../../src/protocols/openai/stream-tap.ts";
import { OpenAIStripTap } from "../../src/protocols/openai/strip-tap.ts";
import { type SseEvent, SseParser } from "../../src/sse/sse-parser.ts";
import { type RelayResult, relayStream } from "../../src/streaming/relay-stream.ts";
import { waitFor } from "../support/wait-for.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

const chunkEvent = (content: string) =>
	`data: ${JSON.stringify({ id: "c1", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta: { content }, finish_reason: null }], usage: null })}\n\n`;
const USAGE_EVENT = `data: ${JSON.stringify({ id: "c1", object: "chat.completion.chunk", created: 1, model: "m", choices: [], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } })}\n\n`;
const DONE = "data: [DONE]\n\n";

/** An upstream body the test drives by hand. */
function controlledSource() {
	let ctrl!: ReadableStreamDefaultController<Uint8Array>;
	const state = { cancelled: false, pulls: 0 };
	const body = new ReadableStream<Uint8Array>(
		{
			start(c) {
				ctrl = c;
			},
			pull() {
				state.pulls++;
			},
			cancel() {
				state.cancelled = true;
			},
		},
		{ highWaterMark: 0 },
	);
	return {
		body,
		state,
		push: (text: string | Uint8Array) => {
			const bytes = typeof text === "string" ? enc.encode(text) : text;
			ctrl.enqueue(bytes);
			return bytes;
		},
		close: () => ctrl.close(),
		fail: (e: unknown) => ctrl.error(e),
	};
}

function startRelay(
	body: ReadableStream<Uint8Array>,
	opts: { keepaliveMs?: number; strip?: boolean; idleTimeoutMs?: number } = {},
) {
	const ends: RelayResult[] = [];
	let aborts = 0;
	const stream = relayStream({
		body,
		transform: opts.strip ? new OpenAIStripTap() : new OpenAIStreamTap(),
		keepaliveMs: opts.keepaliveMs ?? 60_000,
		idleTimeoutMs: opts.idleTimeoutMs,
		startedAt: performance.now(),
		abortUpstream: () => {
			aborts++;
		},
		onEnd: (r) => {
			ends.push(r);
		},
	});
	return { stream, ends, aborts: () => aborts };
}

async function readAll(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<Uint8Array[]> {
	const out: Uint8Array[] = [];
	for (;;) {
		const { done, value } = await reader.read();
		if (done) return out;
		out.push(value);
	}
}

const text = (parts: Uint8Array[]) => parts.map((p) => dec.decode(p, { stream: true })).join("");
const events = (s: string): SseEvent[] => {
	const p = new SseParser();
	return [...p.push(s), ...p.end()];
};

/** Lets every pending timer-free task run (no wall-clock wait). */
async function settle(turns = 50): Promise<void> {
	for (let i = 0; i < turns; i++) await new Promise<void>((r) => setImmediate(r));
}

describe("relayStream", () => {
	test("bytes pass through unchanged; onEnd once with completed and usage", async () => {
		const src = controlledSource();
		const { stream, ends } = startRelay(src.body);
		const reader = stream.getReader();
		const sent = [chunkEvent("Hel"), chunkEvent("lo"), USAGE_EVENT, DONE];
		const pushed: Uint8Array[] = [];
		const got: Uint8Array[] = [];
		for (const s of sent) {
			pushed.push(src.push(s));
			const r = await reader.read();
			expect(r.done).toBe(false);
			got.push(r.value as Uint8Array);
		}
		src.close();
		expect((await reader.read()).done).toBe(true);
		// chunk for chunk: each upstream chunk reaches the client as it came, unsplit and unmerged
		for (let i = 0; i < pushed.length; i++) expect(got[i]).toEqual(pushed[i]);
		expect(text(got)).toBe(sent.join(""));
		expect(ends).toHaveLength(1);
		expect(ends[0]).toMatchObject({
			completed: true,
			cancelled: false,
			errorCode: null,
		});
		expect(ends[0].usage).toMatchObject({
			prompt_tokens: 3,
			completion_tokens: 2,
			total_tokens: 5,
		});
		expect(ends[0].ttftMs).toBeGreaterThanOrEqual(0);
		// a late cancel changes nothing
		await reader.cancel().catch(() => {});
		expect(ends).toHaveLength(1);
	});

	test("strip mode: the client stream lacks only the usage-only chunk", async () => {
		const src = controlledSource();
		const { stream, ends } = startRelay(src.body, { strip: true });
		const all = chunkEvent("a") + USAGE_EVENT + DONE;
		const bytes = enc.encode(all);
		const reading = readAll(stream.getReader());
		for (let i = 0; i < bytes.length; i += 17) src.push(bytes.slice(i, i + 17));
		src.close();
		expect(text(await reading)).toBe(chunkEvent("a") + DONE);
		expect(ends).toHaveLength(1);
		expect(ends[0].completed).toBe(true);
		expect(ends[0].usage?.total_tokens).toBe(5);
	});

	test("upstream ends without [DONE] → an in-band UPSTREAM_STREAM_BROKEN error ends the client stream", async () => {
		const src = controlledSource();
		const { stream, ends } = startRelay(src.body);
		const reading = readAll(stream.getReader());
		src.push(chunkEvent("partial answer"));
		src.close();
		const out = text(await reading);
		expect(out.startsWith(chunkEvent("partial answer"))).toBe(true);
		expect(out).not.toContain("[DONE]");
		const last = events(out).at(-1);
		expect(last?.event).toBe("error");
		expect(JSON.parse(last?.data ?? "{}").error.code).toBe("UPSTREAM_STREAM_BROKEN");
		expect(ends).toHaveLength(1);
		expect(ends[0]).toMatchObject({
			completed: false,
			cancelled: false,
			errorCode: "UPSTREAM_STREAM_BROKEN",
		});
	});

	test("upstream that errors mid-read → the same in-band error", async () => {
		const src = controlledSource();
		const { stream, ends } = startRelay(src.body);
		const reader = stream.getReader();
		src.push(chunkEvent("x"));
		expect(dec.decode((await reader.read()).value)).toBe(chunkEvent("x"));
		src.fail(new Error("ECONNRESET"));
		const out = text(await readAll(reader));
		const evs = events(out);
		expect(evs).toHaveLength(1);
		expect(evs[0].event).toBe("error");
		expect(JSON.parse(evs[0].data).error.code).toBe("UPSTREAM_STREAM_BROKEN");
		expect(out).not.toContain("ECONNRESET");
		expect(ends).toHaveLength(1);
		expect(ends[0].errorCode).toBe("UPSTREAM_STREAM_BROKEN");
		expect(ends[0].completed).toBe(false);
	});

	test("a break in the middle of an event still ends with a well-formed error event", async () => {
		const src = controlledSource();
		const { stream, ends } = startRelay(src.body);
		const reader = stream.getReader();
		src.push(chunkEvent("whole"));
		const first = (await reader.read()).value as Uint8Array;
		src.push('data: {"id":"c1","choi');
		const partial = (await reader.read()).value as Uint8Array;
		expect(dec.decode(partial)).toBe('data: {"id":"c1","choi');
		src.fail(new Error("reset"));
		const evs = events(text([first, partial, ...(await readAll(reader))]));
		const last = evs.at(-1);
		expect(last?.event).toBe("error");
		expect(JSON.parse(last?.data ?? "{}").error.code).toBe("UPSTREAM_STREAM_BROKEN");
		expect(ends[0].errorCode).toBe("UPSTREAM_STREAM_BROKEN");
	});

	test("an upstream in-band error is passed on without a second error event", async () => {
		const src = controlledSource();
		const { stream, ends } = startRelay(src.body);
		const reading = readAll(stream.getReader());
		src.push(chunkEvent("x"));
		src.push('data: {"error":{"message":"overloaded","type":"server_error"}}\n\n');
		src.close();
		const evs = events(text(await reading));
		expect(evs).toHaveLength(2);
		expect(JSON.parse(evs[1].data).error.message).toBe("overloaded");
		expect(ends).toHaveLength(1);
		expect(ends[0].errorCode).toBe("UPSTREAM_STREAM_BROKEN");
		expect(ends[0].completed).toBe(false);
	});

	test("client cancel cancels the upstream read, aborts the upstream and reports cancelled", async () => {
		const src = controlledSource();
		const { stream, ends, aborts } = startRelay(src.body);
		const reader = stream.getReader();
		src.push(chunkEvent("x"));
		await reader.read();
		const pending = reader.read(); // the relay is now waiting on the upstream
		await settle(5);
		await reader.cancel();
		await pending;
		await waitFor(() => src.state.cancelled, {
			timeoutMs: 2_000,
			what: "upstream cancel",
		});
		expect(aborts()).toBe(1);
		expect(ends).toHaveLength(1);
		expect(ends[0]).toMatchObject({
			cancelled: true,
			completed: false,
			errorCode: "CLIENT_CLOSED_REQUEST",
		});
		// the upstream finishing afterwards does not end the relay twice
		expect(() => src.close()).toThrow();
		await settle(5);
		expect(ends).toHaveLength(1);
	});

	test("keepalive comments during silence, at event boundaries only", async () => {
		// a reference relay that is silent at a boundary: its keepalives prove time has passed
		const idle = controlledSource();
		const reference = startRelay(idle.body, { keepaliveMs: 50 });
		const refReader = reference.stream.getReader();
		let refKeepalives = 0;
		const refLoop = (async () => {
			for (;;) {
				const r = await refReader.read();
				if (r.done) return;
				expect(dec.decode(r.value)).toBe(": keepalive\n\n");
				refKeepalives++;
			}
		})();

		const src = controlledSource();
		const { stream, ends } = startRelay(src.body, { keepaliveMs: 50 });
		const reader = stream.getReader();
		const received: string[] = [];
		const loop = (async () => {
			for (;;) {
				const r = await reader.read();
				if (r.done) return;
				received.push(dec.decode(r.value));
			}
		})();

		src.push(chunkEvent("a"));
		await waitFor(() => received.includes(": keepalive\n\n"), {
			timeoutMs: 3_000,
			what: "a keepalive",
		});
		expect(received[0]).toBe(chunkEvent("a"));

		// now stop mid-event: no keepalive may be inserted, however long the silence
		src.push('data: {"id":"c1",');
		await waitFor(() => received.at(-1) === 'data: {"id":"c1",', {
			what: "the partial event",
		});
		const before = received.length;
		const refBefore = refKeepalives;
		await waitFor(() => refKeepalives >= refBefore + 3, {
			timeoutMs: 3_000,
			what: "three keepalive periods",
		});
		expect(received.length).toBe(before);

		// the event completes: keepalives may resume
		src.push('"choices":[]}\n\n');
		await waitFor(() => received.slice(before + 1).includes(": keepalive\n\n"), {
			timeoutMs: 3_000,
			what: "a keepalive after the event",
		});
		src.push(DONE);
		src.close();
		await loop;
		expect(ends[0].completed).toBe(true);
		// every keepalive sits between whole events
		const joined = received.join("");
		expect(joined.replaceAll(": keepalive\n\n", "")).toBe(
			`${chunkEvent("a")}data: {"id":"c1","choices":[]}\n\n${DONE}`,
		);

		await refReader.cancel();
		await refLoop;
	});

	test("backpressure through a real socket: a client that reads nothing holds the upstream to a bounded number of pulls", async () => {
		const upstream = floodingUpstream();
		const { stream, ends } = startRelay(upstream.body);
		const client = await stalledClient(stream);
		try {
			await waitUntilPullsStop(upstream.state);
			// a few MB of socket buffers at most, however much the upstream could send
			expect(upstream.state.pulls * FLOOD_CHUNK.byteLength).toBeLessThan(32 * 1024 * 1024);
			// reading again lets the upstream flow again: the stop was backpressure
			const stalledAt = upstream.state.pulls;
			client.socket.on("data", () => {});
			client.socket.resume();
			await waitFor(() => upstream.state.pulls > stalledAt + 50, { what: "the upstream to flow again" });
		} finally {
			client.socket.destroy();
			await waitFor(() => ends.length === 1, { what: "the relay to end" });
			client.server.stop(true);
		}
		expect(ends[0].cancelled).toBe(true);
	});

	test("time spent waiting on a client that reads nothing does not count as an upstream stall", async () => {
		const upstream = floodingUpstream();
		const { stream, ends } = startRelay(upstream.body, { idleTimeoutMs: 100 });
		const client = await stalledClient(stream);
		try {
			// blocked on the client for 400 ms and more: four stall timeouts
			await waitUntilPullsStop(upstream.state);
			expect(ends).toEqual([]);
			client.socket.on("data", () => {});
			client.socket.resume();
			await waitFor(() => ends.length === 1, { timeoutMs: 20_000, what: "the flood to be relayed to its end" });
			expect(ends[0]).toMatchObject({ completed: false, cancelled: false, errorCode: "UPSTREAM_STREAM_BROKEN" });
		} finally {
			client.socket.destroy();
			client.server.stop(true);
		}
	});

	test("a client that leaves while the relay waits on a blocked write ends the relay and the upstream", async () => {
		const upstream = floodingUpstream();
		const { stream, ends, aborts } = startRelay(upstream.body);
		const client = await stalledClient(stream);
		try {
			await waitUntilPullsStop(upstream.state);
			client.socket.destroy();
			await waitFor(() => ends.length === 1, { what: "the relay to end after the client left" });
			expect(ends[0]).toMatchObject({ cancelled: true, completed: false, errorCode: "CLIENT_CLOSED_REQUEST" });
			expect(aborts()).toBe(1);
			await waitFor(() => upstream.state.cancelled, { what: "the upstream read to be cancelled" });
		} finally {
			client.socket.destroy();
			client.server.stop(true);
		}
	});
});

const FLOOD_CHUNK = enc.encode(chunkEvent("t".repeat(64 * 1024)));

/** An upstream that sends 64 KB events as fast as it is read: 128 MB in all, finite if backpressure were broken. */
function floodingUpstream() {
	const state = { pulls: 0, cancelled: false };
	const body = new ReadableStream<Uint8Array>(
		{
			pull(c) {
				state.pulls++;
				if (state.pulls > 2_000) c.close();
				else c.enqueue(FLOOD_CHUNK);
			},
			cancel() {
				state.cancelled = true;
			},
		},
		{ highWaterMark: 0 },
	);
	return { body, state };
}

/** Serves `stream` to a raw socket that sends its request and then reads nothing. */
async function stalledClient(stream: ReadableStream<Uint8Array>) {
	const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response(stream) });
	const socket = connect(server.port ?? 0, "127.0.0.1");
	await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
	socket.write("GET / HTTP/1.1\r\nhost: x\r\n\r\n");
	socket.pause();
	return { server, socket };
}

/** Waits until the stream has started and the relay stopped pulling: the count holds still. */
async function waitUntilPullsStop(state: { pulls: number }): Promise<void> {
	let seen = -1;
	let still = 0;
	await waitFor(
		() => {
			still = state.pulls === seen ? still + 1 : 0;
			seen = state.pulls;
			return state.pulls > 2 && still >= 8;
		},
		{ intervalMs: 50, what: "the relay to block on the stalled client" },
	);
}
