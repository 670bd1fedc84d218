import { describe, expect, test } from "bun:test";
import { dirname, join, relative, resolve } from "node:path";
import { Glob } from "bun";

/**
 * The layer order of the tree, lowest first (the README's architecture section says the same).
 * A folder may import from folders in lower layers only; folders of one layer know nothing of
 * each other. `workers/` and `src/index.ts` stand above everything.
 */
export const LAYERS: readonly (readonly string[])[] = [
	["logging", "crypto"],
	["errors", "sse"],
	["config"],
	["db"],
	["usage"],
	["metrics", "control", "auth", "fleet", "telemetry"],
	["providers"],
	["routing"],
	["streaming"],
	["protocols"],
	["limits"],
	["plugins", "alerts"],
	["data-plane"],
	["ops", "admin", "console"],
	["app"],
	["server"],
	["index", "workers"],
	["cli"],
];

const ROOT = join(import.meta.dir, "..");
const transpiler = new Bun.Transpiler({ loader: "ts" });
/** scanImports sees only imports that survive compilation: type-only imports are read here. */
const TYPE_IMPORT = /\b(?:import|export)\s+type\s+[^;]*?\bfrom\s+["']([^"']+)["']/g;

/** `src/routing/failover.ts` → `routing`; `workers/x.ts` → `workers`; `src/index.ts` → `index`. */
export function folderOf(path: string): string | null {
	const parts = relative(ROOT, path).split("/");
	if (parts[0] === "workers") return "workers";
	if (parts[0] !== "src") return null;
	return parts.length === 2 ? (parts[1] ?? "").replace(/\.ts$/, "") : (parts[1] ?? null);
}

export interface FolderImport {
	file: string;
	from: string;
	to: string;
}

/** Every import between two folders of the given source text. */
export function folderImports(file: string, source: string): FolderImport[] {
	// an executable entry (the CLI) starts with a shebang line, which the transpiler refuses
	const specs = new Set(transpiler.scanImports(source.replace(/^#!.*\n/, "")).map((i) => i.path));
	for (const m of source.matchAll(TYPE_IMPORT)) if (m[1]) specs.add(m[1]);
	const from = folderOf(file);
	const out: FolderImport[] = [];
	for (const spec of specs) {
		if (!spec.startsWith(".")) continue;
		const to = folderOf(resolve(dirname(file), spec));
		if (from && to && to !== from) out.push({ file: relative(ROOT, file), from, to });
	}
	return out;
}

const layerOf = new Map(LAYERS.flatMap((folders, i) => folders.map((f) => [f, i] as const)));

export function violations(imports: readonly FolderImport[]): string[] {
	const out: string[] = [];
	for (const i of imports) {
		const a = layerOf.get(i.from);
		const b = layerOf.get(i.to);
		if (a === undefined) out.push(`${i.file}: folder '${i.from}' is not in the layer order`);
		else if (b === undefined) out.push(`${i.file}: imports folder '${i.to}', which is not in the layer order`);
		else if (b >= a) out.push(`${i.file}: '${i.from}' (layer ${a}) imports '${i.to}' (layer ${b}): only lower layers`);
	}
	return out;
}

/** Folder-level cycles, each as a path `a → b → … → a`. */
export function cycles(imports: readonly FolderImport[]): string[] {
	const edges = new Map<string, Set<string>>();
	for (const i of imports) {
		if (!edges.has(i.from)) edges.set(i.from, new Set());
		edges.get(i.from)?.add(i.to);
	}
	const found = new Set<string>();
	const walk = (node: string, path: string[]) => {
		for (const next of edges.get(node) ?? []) {
			const at = path.indexOf(next);
			if (at !== -1) found.add([...path.slice(at), next].join(" → "));
			else walk(next, [...path, next]);
		}
	};
	for (const node of edges.keys()) walk(node, [node]);
	return [...found];
}

async function treeImports(): Promise<FolderImport[]> {
	const out: FolderImport[] = [];
	for (const dir of ["src", "workers"]) {
		for await (const f of new Glob("**/*.ts").scan(join(ROOT, dir))) {
			const file = join(ROOT, dir, f);
			out.push(...folderImports(file, await Bun.file(file).text()));
		}
	}
	return out;
}

describe("architecture", () => {
	test("every folder under src/ has a place in the layer order", async () => {
		const folders = new Set<string>();
		for await (const f of new Glob("*/**/*.ts").scan(join(ROOT, "src"))) folders.add(f.split("/")[0] ?? "");
		expect([...folders].filter((f) => !layerOf.has(f))).toEqual([]);
	});

	test("no import points up or sideways, and no folders import each other", async () => {
		const imports = await treeImports();
		expect(imports.length).toBeGreaterThan(50);
		expect(violations(imports)).toEqual([]);
		expect(cycles(imports)).toEqual([]);
	});

	test("an upward import, a type-only one included, is caught", () => {
		const file = join(ROOT, "src/usage/example.ts");
		const imports = folderImports(
			file,
			`import type { X } from "../limits/admit.ts";\nimport { y } from "../db/client.ts";\nexport const z = y;`,
		);
		expect(imports.map((i) => i.to).sort()).toEqual(["db", "limits"]);
		expect(violations(imports)).toEqual([
			`src/usage/example.ts: 'usage' (layer 4) imports 'limits' (layer 10): only lower layers`,
		]);
		expect(cycles([...imports, { file: "src/limits/x.ts", from: "limits", to: "usage" }])).toContain(
			"usage → limits → usage",
		);
	});
});
