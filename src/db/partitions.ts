import type { Sql } from "postgres";

/** Serialises partition DDL between processes sharing one Postgres. */
const PARTITION_LOCK_KEY = 7_263_540_002;
const DAY_MS = 86_400_000;
const PARENT = "request_logs";
const PREFIX = `${PARENT}_p`;

/** UTC midnight of the day holding `d`. */
const utcDay = (d: Date): Date => new Date(Math.floor(d.getTime() / DAY_MS) * DAY_MS);

/** `request_logs_p20250131` for the UTC day holding `day`. */
export function partitionName(day: Date): string {
	return PREFIX + utcDay(day).toISOString().slice(0, 10).replaceAll("-", "");
}

/** The UTC day a partition name stands for, or null for the default and foreign tables. */
export function partitionDay(name: string): Date | null {
	const m = /^request_logs_p(\d{4})(\d{2})(\d{2})$/.exec(name);
	return m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : null;
}

export async function listRequestLogPartitions(sql: Sql): Promise<string[]> {
	const rows = await sql<{ name: string }[]>`
		select c.relname as name
		from pg_inherits i
		join pg_class c on c.oid = i.inhrelid
		where i.inhparent = ${PARENT}::regclass
		order by c.relname`;
	return rows.map((r) => r.name);
}

export interface EnsurePartitionsOptions {
	now?: Date;
	daysBack?: number;
	daysAhead?: number;
}

/**
 * Creates the daily partitions from today-daysBack to today+daysAhead (UTC) that are
 * missing; returns the names created. Rows that landed in the DEFAULT partition for such
 * a day are moved into it first, since Postgres refuses to create a partition whose range
 * the default already holds rows for.
 */
export async function ensureRequestLogPartitions(sql: Sql, opts: EnsurePartitionsOptions = {}): Promise<string[]> {
	const today = utcDay(opts.now ?? new Date());
	const daysBack = opts.daysBack ?? 1;
	const daysAhead = opts.daysAhead ?? 7;
	return sql.begin(async (tx) => {
		await tx`select pg_advisory_xact_lock(${PARTITION_LOCK_KEY})`;
		const existing = new Set(await listRequestLogPartitions(tx as unknown as Sql));
		const created: string[] = [];
		for (let i = -daysBack; i <= daysAhead; i++) {
			const from = new Date(today.getTime() + i * DAY_MS);
			const to = new Date(from.getTime() + DAY_MS);
			const name = partitionName(from);
			if (existing.has(name)) continue;
			const range = `FROM ('${from.toISOString()}') TO ('${to.toISOString()}')`;
			const [{ stray }] = await tx<{ stray: boolean }[]>`
				select exists(select 1 from request_logs_default where ts >= ${from.toISOString()}::timestamptz and ts < ${to.toISOString()}::timestamptz) as stray`;
			if (stray) {
				await tx.unsafe(`CREATE TABLE "${name}" (LIKE "${PARENT}" INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`);
				await tx.unsafe(
					`WITH moved AS (DELETE FROM request_logs_default WHERE ts >= $1 AND ts < $2 RETURNING *)
					 INSERT INTO "${name}" SELECT * FROM moved`,
					[from.toISOString(), to.toISOString()],
				);
				await tx.unsafe(`ALTER TABLE "${PARENT}" ATTACH PARTITION "${name}" FOR VALUES ${range}`);
			} else {
				await tx.unsafe(`CREATE TABLE "${name}" PARTITION OF "${PARENT}" FOR VALUES ${range}`);
			}
			created.push(name);
		}
		return created;
	});
}

/**
 * Retention: drops whole daily partitions older than `retentionDays` (a quick catalog
 * change, no DELETE and no vacuum debt) and trims the default partition, which only ever
 * holds a few stray rows. Returns the partitions dropped.
 */
export async function dropOldRequestLogPartitions(
	sql: Sql,
	opts: { retentionDays: number; now?: Date },
): Promise<string[]> {
	if (!(opts.retentionDays >= 1)) throw new Error("retentionDays must be >= 1");
	const cutoff = new Date(utcDay(opts.now ?? new Date()).getTime() - opts.retentionDays * DAY_MS);
	return sql.begin(async (tx) => {
		await tx`select pg_advisory_xact_lock(${PARTITION_LOCK_KEY})`;
		const dropped: string[] = [];
		for (const name of await listRequestLogPartitions(tx as unknown as Sql)) {
			const day = partitionDay(name);
			if (!day || day.getTime() >= cutoff.getTime()) continue;
			await tx.unsafe(`DROP TABLE IF EXISTS "${name}"`);
			dropped.push(name);
		}
		await tx`delete from request_logs_default where ts < ${cutoff.toISOString()}::timestamptz`;
		return dropped;
	});
}

export interface PartitionMaintenanceOptions {
	/** Unset = keep every partition. */
	retentionDays?: number;
	intervalMs?: number;
	onError?: (err: unknown) => void;
}

/**
 * Runs ensure (and retention when configured) every few hours, so the next days always
 * exist even if the process runs for weeks. Returns a stop function.
 */
export function startPartitionMaintenance(sql: Sql, opts: PartitionMaintenanceOptions = {}): () => void {
	const run = async () => {
		try {
			await ensureRequestLogPartitions(sql);
			if (opts.retentionDays)
				await dropOldRequestLogPartitions(sql, {
					retentionDays: opts.retentionDays,
				});
		} catch (err) {
			opts.onError?.(err);
		}
	};
	const timer = setInterval(run, opts.intervalMs ?? 6 * 3_600_000);
	timer.unref?.();
	return () => clearInterval(timer);
}
