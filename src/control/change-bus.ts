import { hostname } from "node:os";
import type { Sql } from "postgres";
import type { Logger } from "../logging/logger.ts";

/**
 * What an admin change touched; receivers drop caches or reload from the database. `seed`:
 * the change gave the key or tenant a daily quota or a budget, so each instance seeds its
 * counters for it from request_logs (see restoreUsage).
 */
export type ChangeEvent =
	| { kind: "key"; id: string; seed?: boolean }
	| { kind: "key-created" }
	| { kind: "tenant"; id: string; seed?: boolean }
	| { kind: "providers" }
	| { kind: "model-groups" }
	| { kind: "prices" }
	/** An admin session or admin key was revoked: cached sessions are dropped. */
	| { kind: "admin-sessions" };

/**
 * Where an event comes from: this worker published it, another worker of this process did
 * (BroadcastChannel), or another instance (NOTIFY). Work done once per instance (such as
 * seeding the shared limit table) runs on "self" in the publisher and on "remote" in one worker.
 */
export type ChangeOrigin = "self" | "sibling" | "remote";

export type ChangeHandler = (event: ChangeEvent, origin: ChangeOrigin) => void | Promise<void>;

export interface ChangeBusOptions {
	/** BroadcastChannel name and Postgres NOTIFY channel. */
	channel?: string;
	/** Postgres connection for LISTEN/NOTIFY across instances; null = this process only. */
	sql?: Sql | null;
	logger?: Logger;
}

interface Wire {
	/** Sending instance: NOTIFYs from our own process are skipped (BroadcastChannel got them). */
	from: string;
	event: ChangeEvent;
}

export const DEFAULT_CHANGE_CHANNEL = "interchange_changes";
/** Every thread of one process shares the pid; the host name separates containers. */
const INSTANCE = `${hostname()}:${process.pid}`;

/**
 * Spreads admin changes: the publishing worker handles the event itself, the other HTTP workers
 * of the process get it through a BroadcastChannel (immediate, no database involved), and other
 * instances get it through Postgres NOTIFY. LISTEN/NOTIFY is only used on a real Postgres: the
 * embedded PGlite socket server does not deliver notifications, and with it there is only one
 * instance anyway. Handlers must be idempotent (a drop or a reload), since an event may arrive
 * more than once.
 */
export class ChangeBus {
	private readonly channelName: string;
	private readonly bc: BroadcastChannel;
	private readonly sql: Sql | null;
	private readonly logger: Logger | undefined;
	private readonly handlers: ChangeHandler[] = [];
	private unlisten: (() => Promise<void>) | null = null;

	constructor(opts: ChangeBusOptions = {}) {
		this.channelName = opts.channel ?? DEFAULT_CHANGE_CHANNEL;
		this.sql = opts.sql ?? null;
		this.logger = opts.logger;
		this.bc = new BroadcastChannel(this.channelName);
		this.bc.onmessage = (e: MessageEvent<Wire>) => this.deliver(e.data.event, "sibling");
		// A worker's channel must not keep a draining thread alive.
		(this.bc as unknown as { unref?: () => void }).unref?.();
	}

	/** Starts LISTEN when a database is given; resolves once listening. */
	async start(): Promise<void> {
		if (!this.sql) return;
		const sub = await this.sql.listen(this.channelName, (payload) => {
			try {
				const wire = JSON.parse(payload) as Wire;
				if (wire.from !== INSTANCE) this.deliver(wire.event, "remote");
			} catch (err) {
				this.logger?.warn({ err }, "ignoring a malformed change notification");
			}
		});
		this.unlisten = () => sub.unlisten();
	}

	subscribe(handler: ChangeHandler): void {
		this.handlers.push(handler);
	}

	/** Applies the change here, then tells the other workers and instances. */
	async publish(event: ChangeEvent): Promise<void> {
		const wire: Wire = { from: INSTANCE, event };
		await this.deliver(event, "self");
		this.bc.postMessage(wire);
		if (this.sql) {
			await this.sql.notify(this.channelName, JSON.stringify(wire)).catch((err) => {
				this.logger?.warn({ err }, "could not NOTIFY other instances of a change");
			});
		}
	}

	async close(): Promise<void> {
		this.bc.close();
		await this.unlisten?.().catch(() => {});
	}

	private async deliver(event: ChangeEvent, origin: ChangeOrigin): Promise<void> {
		for (const h of this.handlers) {
			try {
				await h(event, origin);
			} catch (err) {
				this.logger?.error({ err, event }, "change handler failed");
			}
		}
	}
}
