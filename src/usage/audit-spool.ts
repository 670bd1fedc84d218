import {
	appendFileSync,
	mkdirSync,
	readdirSync,
	readFileSync,
	renameSync,
	statSync,
	unlinkSync,
	writeFileSync,
} from "node:fs";
import { join } from "node:path";
import type { UsageEvent } from "./usage-event.ts";

/** Rotate so a replay never has to load a huge file at once. */
const MAX_FILE_BYTES = 32 * 1024 * 1024;
const FILE_RE = /^audit-(\d+)-(\d+)-([a-z0-9]+)-(\d+)\.ndjson$/;
/** Owner tag of files nobody appends to any more: any writer may replay them. */
const RELEASED = "free";

/** Keeps released names unique across writers of one process (same ms, same seq). */
const uniqueDigits = (): string => String(Math.floor(Math.random() * 1e9)).padStart(9, "0");

const pidAlive = (pid: number): boolean => {
	try {
		process.kill(pid, 0);
		return true;
	} catch (err) {
		// EPERM: it exists but belongs to someone else.
		return (err as NodeJS.ErrnoException).code === "EPERM";
	}
};

export interface SpoolFile {
	path: string;
	rows: UsageEvent[];
	/** Lines that could not be parsed (a crash mid-append leaves at most one). */
	corrupt: number;
}

/**
 * Append-only NDJSON spool under `<dataDir>/spool/` for rows Postgres could not take.
 * Each writer appends only to files it created (name = time, pid, owner tag, sequence);
 * it replays its own files, released ones (owner "free": renamed at stop, or written
 * whole) and those of dead processes, never a live sibling's file, which might still be
 * appended to.
 */
export class AuditSpool {
	readonly dir: string;
	private readonly owner: string;
	private current: string | null = null;
	private currentBytes = 0;
	private seq = 0;

	constructor(dataDir: string, owner: string) {
		this.dir = join(dataDir, "spool");
		this.owner = owner.toLowerCase().replace(/[^a-z0-9]/g, "");
		mkdirSync(this.dir, { recursive: true });
	}

	/** Appends synchronously: once this returns the rows are on disk (page cache). */
	append(events: readonly UsageEvent[]): number {
		if (events.length === 0) return 0;
		let text = "";
		for (const e of events) text += `${JSON.stringify(e)}\n`;
		if (!this.current || this.currentBytes >= MAX_FILE_BYTES) this.rotate();
		appendFileSync(this.current as string, text);
		const bytes = Buffer.byteLength(text);
		this.currentBytes += bytes;
		return bytes;
	}

	/**
	 * Writes rows as one complete released file (tmp + rename, so a reader never sees half
	 * of it). For rows that arrive when no writer runs, e.g. after stop().
	 */
	writeReleased(events: readonly UsageEvent[]): void {
		if (events.length === 0) return;
		this.seq++;
		const name = `audit-${Date.now()}-${process.pid}-${RELEASED}-${this.seq}${uniqueDigits()}.ndjson`;
		const tmp = join(this.dir, `.${name}.tmp`);
		writeFileSync(tmp, events.map((e) => `${JSON.stringify(e)}\n`).join(""));
		renameSync(tmp, join(this.dir, name));
	}

	/** At stop: hands this writer's files over to whichever writer runs next. */
	release(): void {
		this.seal();
		for (const name of readdirSync(this.dir)) {
			const m = FILE_RE.exec(name);
			if (!m || Number(m[2]) !== process.pid || m[3] !== this.owner) continue;
			renameSync(
				join(this.dir, name),
				join(this.dir, `audit-${m[1]}-${m[2]}-${RELEASED}-${m[4]}${uniqueDigits()}.ndjson`),
			);
		}
	}

	/** Stops appending to the current file so it can be replayed and deleted. */
	seal(): void {
		this.current = null;
		this.currentBytes = 0;
	}

	/** Files this writer may replay, oldest first. */
	replayable(): string[] {
		const out: string[] = [];
		for (const name of readdirSync(this.dir).sort()) {
			const m = FILE_RE.exec(name);
			if (!m) continue;
			const pid = Number(m[2]);
			const mine = pid === process.pid && m[3] === this.owner;
			if (mine || m[3] === RELEASED || (pid !== process.pid && !pidAlive(pid))) out.push(join(this.dir, name));
		}
		return out;
	}

	read(path: string): SpoolFile {
		const rows: UsageEvent[] = [];
		let corrupt = 0;
		for (const line of readFileSync(path, "utf8").split("\n")) {
			if (!line) continue;
			try {
				rows.push(JSON.parse(line) as UsageEvent);
			} catch {
				corrupt++;
			}
		}
		return { path, rows, corrupt };
	}

	remove(path: string): void {
		if (path === this.current) this.seal();
		try {
			unlinkSync(path);
		} catch (err) {
			if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
		}
	}

	/** Rows and bytes waiting in every spool file (startup accounting, stats). */
	measure(): { rows: number; bytes: number } {
		let rows = 0;
		let bytes = 0;
		for (const name of readdirSync(this.dir)) {
			if (!FILE_RE.test(name)) continue;
			const path = join(this.dir, name);
			bytes += statSync(path).size;
			const text = readFileSync(path, "utf8");
			for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) rows++;
		}
		return { rows, bytes };
	}

	private rotate(): void {
		this.seq++;
		this.current = join(this.dir, `audit-${Date.now()}-${process.pid}-${this.owner}-${this.seq}.ndjson`);
		this.currentBytes = 0;
	}
}
