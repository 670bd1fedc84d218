import { appendFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import postgres, { type Sql } from "postgres";
import { storableText } from "./copy-line.ts";
import type { UsageEvent } from "./usage-event.ts";

/** How long the dead-letter insert may take before the row goes to the file instead. */
const TABLE_TIMEOUT_MS = 5_000;

/**
 * True when Postgres refused a write because of the rows themselves, not because it is away:
 * SQLSTATE class 22 (data exception: a value out of range, bad syntax for its type) and class
 * 23 (integrity: a NOT NULL or CHECK violated), except 23505 (a duplicate: the idempotent
 * INSERT skips those). Retrying such a batch can never succeed.
 */
export function isDataError(err: unknown): err is InstanceType<typeof postgres.PostgresError> {
	if (!(err instanceof postgres.PostgresError)) return false;
	const code = String(err.code ?? "");
	return code.startsWith("22") || (code.startsWith("23") && code !== "23505");
}

/**
 * Where rows Postgres refused for their data go: the `request_logs_dead_letter` table, with
 * the SQLSTATE, the message and the raw row; a file under `<dataDir>/dead-letter/` when the
 * table cannot take it either (NDJSON, one object per row).
 */
export class AuditDeadLetter {
	private readonly file: string;

	constructor(dataDir: string, owner: string) {
		const dir = join(dataDir, "dead-letter");
		mkdirSync(dir, { recursive: true });
		this.file = join(dir, `dead-letter-${process.pid}-${owner.toLowerCase().replace(/[^a-z0-9]/g, "")}.ndjson`);
	}

	/** Sets one row aside; resolves to where it went. Throws only when the disk fails too. */
	async put(
		sql: Sql,
		row: string | UsageEvent,
		err: InstanceType<typeof postgres.PostgresError>,
	): Promise<"table" | "file"> {
		const line = storableText(typeof row === "string" ? row : JSON.stringify(row));
		const requestId = storableText((typeof row === "string" ? row.split("\t", 2)[1] : row.request_id) ?? "");
		const sqlstate = String(err.code ?? "");
		const reason = storableText(err.message);
		let timer: ReturnType<typeof setTimeout> | undefined;
		try {
			await Promise.race([
				sql`insert into request_logs_dead_letter (request_id, sqlstate, reason, line)
					values (${requestId}, ${sqlstate}, ${reason}, ${line})`,
				new Promise((_, reject) => {
					timer = setTimeout(() => reject(new Error("dead-letter insert timed out")), TABLE_TIMEOUT_MS);
				}),
			]);
			return "table";
		} catch {
			const at = new Date().toISOString();
			appendFileSync(this.file, `${JSON.stringify({ at, request_id: requestId, sqlstate, reason, line })}\n`);
			return "file";
		} finally {
			clearTimeout(timer);
		}
	}
}
