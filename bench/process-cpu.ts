import { readdirSync, readFileSync } from "node:fs";

const TICK_US = 10_000; // USER_HZ 100

/** User + system CPU in µs from a /proc stat file (a process's counts all its threads); 0 if gone. */
export function statCpuMicros(path: string): number {
	try {
		const s = readFileSync(path, "utf8");
		const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
		return (Number(f[11]) + Number(f[12])) * TICK_US;
	} catch {
		return 0;
	}
}

/** CPU µs of a whole process, all threads. */
export const processCpuMicros = (pid: number): number => statCpuMicros(`/proc/${pid}/stat`);

/** CPU µs per thread of a process, by thread name (unnamed Bun Workers told apart by tid). */
export function threadCpuMicros(pid: number): Map<string, number> {
	const out = new Map<string, number>();
	for (const tid of readdirSync(`/proc/${pid}/task`)) {
		let name = "?";
		try {
			name = readFileSync(`/proc/${pid}/task/${tid}/comm`, "utf8").trim();
		} catch {}
		const key = name === "Worker" ? `Worker#${tid}` : name;
		out.set(key, (out.get(key) ?? 0) + statCpuMicros(`/proc/${pid}/task/${tid}/stat`));
	}
	return out;
}

/** CPU µs of every process whose name starts with `prefix` (e.g. all Postgres backends). */
export function cpuMicrosOfProcesses(prefix: string): number {
	let total = 0;
	for (const p of readdirSync("/proc")) {
		if (!/^\d+$/.test(p)) continue;
		try {
			if (readFileSync(`/proc/${p}/comm`, "utf8").startsWith(prefix)) total += statCpuMicros(`/proc/${p}/stat`);
		} catch {}
	}
	return total;
}
