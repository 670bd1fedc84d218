import { afterAll, describe, expect, test } from "bun:test";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";
import { execForm, parseCopy, parseDockerfile, type Stage } from "./dockerfile.ts";

const ROOT = join(import.meta.dir, "..", "..");
const stages = parseDockerfile(readFileSync(join(ROOT, "Dockerfile"), "utf8"));
const installStage = stages.find((s) => s.instructions.some((i) => i.op === "RUN" && i.args.includes("bun install")));
const finalStage = stages.at(-1) as Stage;
const tempDirs: string[] = [];

afterAll(() => {
	for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});

/**
 * Replays the install stage outside Docker: a clean directory holding exactly what the stage's
 * COPY lines bring (paths relative to its WORKDIR), then its RUN commands there. `skip` leaves
 * out one COPY source, to show the replay notices a missing file.
 */
async function replayInstall(stage: Stage, skip?: string): Promise<{ code: number; output: string; dir: string }> {
	const dir = mkdtempSync(join(tmpdir(), "ix-docker-install-"));
	tempDirs.push(dir);
	let workdir = "/";
	let output = "";
	for (const ins of stage.instructions) {
		if (ins.op === "WORKDIR") workdir = posix.resolve(workdir, ins.args);
		if (ins.op === "COPY") {
			const copy = parseCopy(ins.args);
			expect(copy.from).toBeUndefined();
			const dest = posix.resolve(workdir, copy.dest);
			for (const source of copy.sources) {
				if (source === skip) continue;
				const from = join(ROOT, source);
				expect(existsSync(from)).toBe(true);
				// COPY a b ./ puts files in the folder; COPY dir ./dir copies the folder's content
				const target = copy.dest.endsWith("/") && !statSync(from).isDirectory() ? posix.join(dest, source) : dest;
				cpSync(from, join(dir, posix.relative("/app", target)), { recursive: true });
			}
		}
		if (ins.op === "RUN") {
			const proc = Bun.spawn(["sh", "-c", ins.args], { cwd: dir, stdout: "pipe", stderr: "pipe" });
			const [code, out, err] = await Promise.all([
				proc.exited,
				new Response(proc.stdout).text(),
				new Response(proc.stderr).text(),
			]);
			output += out + err;
			if (code !== 0) return { code, output, dir };
		}
	}
	return { code: 0, output, dir };
}

describe("Dockerfile install stage", () => {
	test("has WORKDIR /app, copies only from the build context, and runs a frozen production install", () => {
		expect(installStage).toBeDefined();
		const stage = installStage as Stage;
		expect(stage.instructions.find((i) => i.op === "WORKDIR")?.args).toBe("/app");
		const run = stage.instructions.filter((i) => i.op === "RUN").map((i) => i.args);
		expect(run).toEqual(["bun install --frozen-lockfile --production"]);
		const copied = stage.instructions.filter((i) => i.op === "COPY").flatMap((i) => parseCopy(i.args).sources);
		expect(copied.sort()).toEqual(["bun.lock", "package.json", "patches"]);
	});

	test("replayed on exactly the files it copies, bun install succeeds and applies the patches", async () => {
		const r = await replayInstall(installStage as Stage);
		expect({ code: r.code, output: r.code === 0 ? "" : r.output }).toEqual({ code: 0, output: "" });
		// the postgres.js patch (patches/postgres@3.4.9.patch) is in the installed package
		const conn = readFileSync(join(r.dir, "node_modules", "postgres", "src", "connection.js"), "utf8");
		expect(conn).toContain("final && (final(err), final = null)");
		// production only: no dev dependency was installed
		expect(existsSync(join(r.dir, "node_modules", "@biomejs"))).toBe(false);
		expect(existsSync(join(r.dir, "node_modules", "openai"))).toBe(false);
		expect(existsSync(join(r.dir, "node_modules", "elysia"))).toBe(true);
	}, 120_000);

	test("the replay notices a missing file: without patches/ the install fails", async () => {
		const r = await replayInstall(installStage as Stage, "patches");
		expect(r.code).not.toBe(0);
		expect(r.output.toLowerCase()).toContain("patch");
	}, 120_000);
});

describe("Dockerfile runtime stage", () => {
	const ops = (op: string) => finalStage.instructions.filter((i) => i.op === op);

	test("runs as a non-root user, by number", () => {
		const user = ops("USER").at(-1)?.args ?? "root";
		const [name] = user.split(":");
		expect(name).toMatch(/^\d+$/);
		expect(Number(name)).toBeGreaterThan(0);
	});

	test("has a HEALTHCHECK against /healthz or /readyz on the port it listens on", () => {
		const hc = ops("HEALTHCHECK");
		expect(hc).toHaveLength(1);
		const args = hc[0]?.args ?? "";
		expect(args).toMatch(/\/(healthz|readyz)\b/);
		const cmd = execForm(args.slice(args.indexOf("CMD ") + 4));
		expect(cmd[0]).toBe("bun");
		const env = ops("ENV")
			.map((i) => i.args)
			.join(" ");
		expect(env).toContain("PORT=8080");
		expect(ops("EXPOSE").map((i) => i.args)).toEqual(["8080"]);
		const routes = readFileSync(join(ROOT, "src", "ops", "index.ts"), "utf8");
		for (const path of args.match(/\/(healthz|readyz)\b/g) ?? []) expect(routes).toContain(`"${path}"`);
	});

	test("copies what it runs: sources exist, --from names an earlier stage, CMD's entry file is copied", () => {
		const names = stages.slice(0, -1).map((s) => s.name);
		const copied: string[] = [];
		for (const ins of ops("COPY")) {
			const copy = parseCopy(ins.args);
			if (copy.from) {
				expect(names).toContain(copy.from);
				continue;
			}
			for (const s of copy.sources) {
				expect(existsSync(join(ROOT, s))).toBe(true);
				copied.push(s);
			}
		}
		const cmd = execForm(ops("CMD").at(-1)?.args ?? "[]");
		const entry = cmd.find((w) => w.endsWith(".ts")) ?? "";
		expect(copied.some((c) => entry === c || entry.startsWith(`${c}/`))).toBe(true);
		// the embedded database's initdb child and the migrations ship with the sources
		expect(copied).toEqual(expect.arrayContaining(["src", "workers", "drizzle", "package.json"]));
	});

	test(".dockerignore leaves in everything a COPY names", () => {
		const ignored = readFileSync(join(ROOT, ".dockerignore"), "utf8")
			.split("\n")
			.map((l) => l.trim())
			.filter((l) => l && !l.startsWith("#"));
		const sources = stages.flatMap((s) =>
			s.instructions
				.filter((i) => i.op === "COPY")
				.flatMap((i) => {
					const c = parseCopy(i.args);
					return c.from ? [] : c.sources;
				}),
		);
		for (const s of sources) expect(ignored).not.toContain(s);
	});
});
