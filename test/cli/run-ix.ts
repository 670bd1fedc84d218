import { join } from "node:path";

const ROOT = join(import.meta.dir, "..", "..");

export interface IxResult {
	code: number;
	stdout: string;
	stderr: string;
}

/** Runs the real CLI (`bun run src/cli/main.ts …`) with only PATH, HOME and the given env. */
export async function runIx(args: string[], env: Record<string, string>): Promise<IxResult> {
	const proc = Bun.spawn(["bun", "run", "src/cli/main.ts", ...args], {
		cwd: ROOT,
		env: { PATH: process.env.PATH ?? "", ...env },
		stdout: "pipe",
		stderr: "pipe",
	});
	const [stdout, stderr, code] = await Promise.all([
		new Response(proc.stdout).text(),
		new Response(proc.stderr).text(),
		proc.exited,
	]);
	return { code, stdout, stderr };
}
