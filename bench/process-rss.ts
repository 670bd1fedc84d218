import { readFileSync } from "node:fs";

/** Resident set of a process (all its threads), in MB, from /proc. */
export function rssMb(pid: number): number {
	const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
	return m ? Math.round(Number(m[1]) / 1024) : 0;
}
