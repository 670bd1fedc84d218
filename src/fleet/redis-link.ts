import { createHash } from "node:crypto";
import { RedisClient } from "bun";
import type { Logger } from "../logging/logger.ts";
import { redactUrl } from "../logging/redact-url.ts";

/** A Lua script sent by hash (EVALSHA), and by body once after Redis forgot it. */
export interface Script {
	readonly source: string;
	readonly sha: string;
}

export const script = (source: string): Script => ({
	source,
	sha: createHash("sha1").update(source).digest("hex"),
});

export interface RedisLinkOptions {
	url: string;
	/** No call waits longer than this; past it the caller decides alone (local share). */
	deadlineMs: number;
	logger?: Logger;
}

const RECONNECT_MIN_MS = 200;
const RECONNECT_MAX_MS = 5_000;

/**
 * The fleet's one connection to Redis. It never queues a command while disconnected (a
 * request must not wait on a Redis that is away): calls fail fast or at the deadline, the link
 * reconnects in the background with backoff, and says once that it went down and once that it
 * came back.
 */
export class RedisLink {
	private readonly client: RedisClient;
	private readonly opts: RedisLinkOptions;
	private isUp = false;
	private connecting: Promise<void> | null = null;
	private retryMs = RECONNECT_MIN_MS;
	private retryTimer: ReturnType<typeof setTimeout> | null = null;
	private closed = false;
	private downSince: number | null = null;
	private everUp = false;
	private readonly upListeners: (() => void)[] = [];
	/** A second connection for SUBSCRIBE (a subscribed connection takes no other command). */
	private subscriber: RedisClient | null = null;
	private readonly channels = new Map<string, (message: string) => void>();

	constructor(opts: RedisLinkOptions) {
		this.opts = opts;
		this.client = new RedisClient(opts.url, {
			enableOfflineQueue: false,
			autoReconnect: false,
			connectionTimeout: Math.max(200, opts.deadlineMs * 10),
		});
		this.client.onclose = () => this.markDown(new Error("connection closed"));
	}

	get up(): boolean {
		return this.isUp;
	}

	/** Called each time the link comes back up after being down, for resynchronisation. */
	onUp(listener: () => void): void {
		this.upListeners.push(listener);
	}

	/** Connects (once); resolves either way: a Redis that is away is retried in the background. */
	start(): Promise<void> {
		return this.connect();
	}

	close(): void {
		this.closed = true;
		if (this.retryTimer) clearTimeout(this.retryTimer);
		this.client.close();
		this.subscriber?.close();
	}

	/** Runs a plain command; rejects at the deadline or when the link is down. */
	async command(name: string, args: readonly (string | number)[]): Promise<unknown> {
		if (!this.isUp) throw new Error("redis is down");
		return this.withDeadline(this.client.send(name, args.map(String)));
	}

	/**
	 * Listens on a channel, across reconnects (messages sent while the link was down are
	 * lost: callers re-read the state they need in their `onUp` listener).
	 */
	subscribe(channel: string, listener: (message: string) => void): void {
		this.channels.set(channel, listener);
		void this.resubscribe();
	}

	private async resubscribe(): Promise<void> {
		if (!this.isUp || this.channels.size === 0 || this.closed) return;
		try {
			if (!this.subscriber?.connected) {
				this.subscriber?.close();
				const sub = new RedisClient(this.opts.url, { enableOfflineQueue: false, autoReconnect: false });
				sub.onclose = () => {
					if (this.subscriber === sub) this.subscriber = null;
				};
				await sub.connect();
				this.subscriber = sub;
			}
			const sub = this.subscriber;
			for (const [channel, listener] of this.channels) await sub?.subscribe(channel, (m) => listener(m));
		} catch {
			// the main link notices the outage; the next onUp subscribes again
		}
	}

	/** Runs a script; rejects at the deadline or when the link is down. */
	async eval(s: Script, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
		if (!this.isUp) throw new Error("redis is down");
		const rest = [String(keys.length), ...keys, ...args.map(String)];
		try {
			return await this.withDeadline(
				this.client.send("EVALSHA", [s.sha, ...rest]).catch((err: Error) => {
					if (!String(err?.message).startsWith("NOSCRIPT")) throw err;
					return this.client.send("EVAL", [s.source, ...rest]);
				}),
			);
		} catch (err) {
			if (!this.client.connected) this.markDown(err);
			throw err;
		}
	}

	private withDeadline<T>(p: Promise<T>): Promise<T> {
		let timer: ReturnType<typeof setTimeout> | undefined;
		const late = new Promise<never>((_, reject) => {
			timer = setTimeout(
				() => reject(new Error(`redis did not answer within ${this.opts.deadlineMs} ms`)),
				this.opts.deadlineMs,
			);
		});
		return Promise.race([p, late]).finally(() => clearTimeout(timer));
	}

	private connect(): Promise<void> {
		if (this.connecting) return this.connecting;
		this.connecting = this.client
			.connect()
			.then(() => {
				this.isUp = true;
				this.retryMs = RECONNECT_MIN_MS;
				const back = this.everUp;
				if (this.downSince !== null || !this.everUp) {
					this.opts.logger?.info(
						{ redis: redactUrl(this.opts.url) },
						"redis connected: limits are shared by the fleet",
					);
				}
				this.everUp = true;
				this.downSince = null;
				void this.resubscribe();
				if (back) for (const l of this.upListeners) l();
			})
			.catch((err) => this.markDown(err))
			.finally(() => {
				this.connecting = null;
			});
		return this.connecting;
	}

	private markDown(err: unknown): void {
		this.isUp = false;
		if (this.closed) return;
		if (this.downSince === null) {
			this.downSince = Date.now();
			this.opts.logger?.warn(
				{ redis: redactUrl(this.opts.url), err: String((err as Error)?.message ?? err) },
				"redis unreachable: each instance enforces its last known share of every limit until it is back",
			);
		}
		if (this.retryTimer) return;
		this.retryTimer = setTimeout(() => {
			this.retryTimer = null;
			void this.connect();
		}, this.retryMs);
		this.retryMs = Math.min(this.retryMs * 2, RECONNECT_MAX_MS);
	}
}
