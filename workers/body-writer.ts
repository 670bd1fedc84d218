/**
 * The body writer's thread: request and response bodies from the HTTP workers, reassembled,
 * redacted, capped and written to request_bodies (src/usage/body-writer.ts). Protocol:
 * src/usage/body-protocol.ts.
 */
import type { FromBodyWriter, ToBodyWriter } from "../src/usage/body-protocol.ts";
import { BodyWriter } from "../src/usage/body-writer.ts";

declare const self: Worker;

let writer: BodyWriter | null = null;
let statsTimer: ReturnType<typeof setInterval> | null = null;

const post = (msg: FromBodyWriter) => self.postMessage(msg);
const postStats = () => {
	if (writer) post({ type: "stats", ...writer.stats() });
};

// a connection error outside any query must not end the thread; the next batch retries
process.on("uncaughtException", () => {});
process.on("unhandledRejection", () => {});

self.onmessage = async (ev: MessageEvent<ToBodyWriter>) => {
	const msg = ev.data;
	switch (msg.type) {
		case "init": {
			const { type: _, ...cfg } = msg;
			writer = new BodyWriter(cfg);
			statsTimer = setInterval(postStats, cfg.statsIntervalMs ?? 1_000);
			post({ type: "ready" });
			return;
		}
		case "bodies":
			writer?.add(msg.events);
			return;
		case "flush":
			await writer?.flush();
			postStats();
			post({ type: "flushed", id: msg.id });
			return;
		case "stop":
			if (statsTimer) clearInterval(statsTimer);
			await writer?.stop();
			postStats();
			post({ type: "stopped" });
			return;
	}
};
