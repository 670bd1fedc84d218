import postgres from "postgres";
import type { Logger } from "../logging/logger.ts";

const APPLICATION = "interchange-instance";
const EVERY_MS = 60_000;

/**
 * Without Redis every limit is per instance, so several instances on one Postgres each admit
 * the full limit. Each supervisor keeps one idle connection named `interchange-instance`, and
 * counts the others' in pg_stat_activity: at startup and every minute, it warns (once) when it
 * is not alone. Nothing to clean up: a dead instance's connection is gone with it.
 */
export function startInstanceCensus(databaseUrl: string, logger: Logger): () => Promise<void> {
	const sql = postgres(databaseUrl, {
		max: 1,
		idle_timeout: 0,
		max_lifetime: 0,
		connect_timeout: 5,
		onnotice: () => {},
		connection: { application_name: APPLICATION },
	});
	let warned = false;
	const check = async () => {
		const [r] = await sql<{ n: number }[]>`
			select count(*)::int as n from pg_stat_activity
			where application_name = ${APPLICATION} and datname = current_database() and pid <> pg_backend_pid()`;
		const others = r?.n ?? 0;
		if (others > 0 && !warned) {
			warned = true;
			logger.warn(
				{ other_instances: others },
				"other gateway instances share this Postgres and no Redis is configured: every limit (RPM, TPM, concurrency, quotas, budgets) and every account's health is enforced per instance, so the fleet admits up to N times each limit; set REDIS_URL to share them",
			);
		}
	};
	const run = () => check().catch(() => {});
	void run();
	const timer = setInterval(run, EVERY_MS);
	return async () => {
		clearInterval(timer);
		await sql.end({ timeout: 1 }).catch(() => {});
	};
}
