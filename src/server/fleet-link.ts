import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { GatewayConfig } from "../config/types.ts";
import { FleetLeases } from "../fleet/fleet-leases.ts";
import { RedisLink } from "../fleet/redis-link.ts";
import type { Logger } from "../logging/logger.ts";
import type { MetricsRegistry } from "../metrics/registry.ts";

/** One HTTP worker's share of the fleet: its Redis link and the leases it holds. */
export interface FleetLink {
	/** This worker's name in the fleet. */
	holder: string;
	link: RedisLink;
	leases: FleetLeases;
	/** Per-worker gauges, set before each metrics snapshot (summed over workers). */
	report(metrics: MetricsRegistry): void;
	stop(): Promise<void>;
}

/**
 * Connects a worker to the fleet when `[redis] url` is set. Only worker 0 logs the link's
 * state changes: every worker has its own link, and one line per instance is enough.
 */
export async function connectFleet(config: GatewayConfig, worker: number, logger: Logger): Promise<FleetLink | null> {
	const r = config.redis;
	if (!r.url) return null;
	const link = new RedisLink({ url: r.url, deadlineMs: r.deadline_ms, logger: worker === 0 ? logger : undefined });
	const holder = `${hostname()}:${process.pid}:${worker}:${randomUUID().slice(0, 8)}`;
	const leases = new FleetLeases(link, {
		holder,
		prefix: r.key_prefix,
		leaseFraction: r.lease_fraction,
		idleMs: r.idle_ms,
		holderTtlMs: r.holder_ttl_ms,
	});
	await link.start();
	leases.start();
	return {
		holder,
		link,
		leases,
		report(metrics) {
			metrics.set("interchange_redis_links", "HTTP workers holding fleet leases through Redis", "", 1);
			metrics.set(
				"interchange_redis_links_down",
				"HTTP workers whose Redis link is down (they enforce their share of each limit alone)",
				"",
				link.up ? 0 : 1,
			);
		},
		async stop() {
			await leases.stop();
			link.close();
		},
	};
}
