/**
 * The audit writer's thread: receives usage rows from the main thread and hands them to an
 * AuditWriter (src/usage/audit-writer.ts). Protocol: src/usage/audit-protocol.ts.
 */
import { threadId } from "node:worker_threads";
import type { FromAuditWriter, ToAuditWriter } from "../src/usage/audit-protocol.ts";
import { AuditWriter } from "../src/usage/audit-writer.ts";

declare const self: Worker;

let writer: AuditWriter | null = null;
let statsTimer: ReturnType<typeof setInterval> | null = null;

const post = (msg: FromAuditWriter) => self.postMessage(msg);
const postStats = () => {
	if (writer) post({ type: "stats", ...writer.stats() });
};

// postgres.js can raise a connection error outside any query (a pool reconnecting while
// Postgres is away). In a worker an uncaught error ends the thread, and with it every row
// in memory: record it and keep going; the writer's retry loop owns recovery.
process.on("uncaughtException", (err) => {
	writer?.noteError(`uncaught: ${String((err as Error)?.message ?? err)}`);
});
process.on("unhandledRejection", (reason) => {
	writer?.noteError(`unhandled rejection: ${String((reason as Error)?.message ?? reason)}`);
});

self.onmessage = async (ev: MessageEvent<ToAuditWriter>) => {
	const msg = ev.data;
	switch (msg.type) {
		case "init": {
			const { type: _, ...cfg } = msg;
			writer = new AuditWriter(cfg, `w${threadId}`);
			statsTimer = setInterval(postStats, cfg.statsIntervalMs ?? 1_000);
			post({ type: "ready" });
			return;
		}
		case "events":
			writer?.addEvents(msg.events);
			return;
		case "lines":
			writer?.addLines(msg.lines);
			return;
		case "flush": {
			const res = writer ? await writer.flush() : { ok: true, pending: 0 };
			postStats();
			post({ type: "flushed", id: msg.id, ...res });
			return;
		}
		case "stop": {
			if (statsTimer) clearInterval(statsTimer);
			// Whatever could not be written waits for the next writer, in this process or the next.
			await writer?.stop();
			postStats();
			post({ type: "stopped" });
			return;
		}
	}
};
