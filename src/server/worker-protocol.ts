import type { GatewayConfig } from "../config/types.ts";
import type { MetricsSnapshot } from "../metrics/registry.ts";
import type { RequestBodyEvent } from "../usage/request-body-event.ts";

/** Supervisor → HTTP worker. */
export type ToHttpWorker =
	| {
			type: "init";
			index: number;
			config: GatewayConfig;
			databaseUrl: string;
			accountTable: SharedArrayBuffer;
			/** Per-(account, model) health (src/routing/model-lanes.ts). */
			modelLaneTable: SharedArrayBuffer;
			limitTable: SharedArrayBuffer;
			reusePort: boolean;
			version: string;
	  }
	/** Every worker is listening and the database is migrated. */
	| { type: "ready" }
	| { type: "drain"; timeoutMs: number }
	| { type: "collect-metrics"; id: number }
	| { type: "metrics-text"; id: number; text: string };

/** HTTP worker → supervisor. */
export type FromHttpWorker =
	| { type: "listening"; index: number; port: number }
	/** Finished requests' usage rows as COPY lines (src/usage/copy-line.ts). */
	| { type: "usage"; lines: string; count: number }
	/** Captured bodies of requests whose `log_bodies` keeps them (src/usage/body-writer.ts). */
	| { type: "bodies"; events: RequestBodyEvent[] }
	| { type: "scrape"; id: number }
	| { type: "metrics-snapshot"; id: number; snapshot: MetricsSnapshot }
	| { type: "drained"; index: number; forced: boolean }
	| { type: "fatal"; index: number; message: string };
