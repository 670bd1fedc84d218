import { ConfigError } from "./config-error.ts";

/** Tiny typed readers over an untrusted object tree; each error names the key path. */
export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
	return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function expectObj(v: unknown, path: string): Obj {
	if (v === undefined) return {};
	if (!isObj(v)) throw new ConfigError(path, "must be a table");
	return v;
}

export function rejectUnknown(o: Obj, allowed: readonly string[], path: string): void {
	for (const k of Object.keys(o)) {
		if (!allowed.includes(k)) {
			throw new ConfigError(path ? `${path}.${k}` : k, `unknown key (allowed: ${allowed.join(", ")})`);
		}
	}
}

export function str(o: Obj, key: string, path: string, fallback?: string): string {
	const v = o[key];
	if (v === undefined) {
		if (fallback !== undefined) return fallback;
		throw new ConfigError(`${path}${key}`, "is required");
	}
	if (typeof v !== "string") throw new ConfigError(`${path}${key}`, "must be a string");
	return v;
}

export function optStr(o: Obj, key: string, path: string): string | undefined {
	const v = o[key];
	if (v === undefined) return undefined;
	if (typeof v !== "string") throw new ConfigError(`${path}${key}`, "must be a string");
	return v;
}

export function int(
	o: Obj,
	key: string,
	path: string,
	fallback: number,
	min = 0,
	max = Number.MAX_SAFE_INTEGER,
): number {
	const v = o[key];
	if (v === undefined) return fallback;
	if (typeof v !== "number" || !Number.isInteger(v)) throw new ConfigError(`${path}${key}`, "must be an integer");
	if (v < min || v > max) throw new ConfigError(`${path}${key}`, `must be between ${min} and ${max}`);
	return v;
}

export function num(o: Obj, key: string, path: string, fallback?: number): number {
	const v = o[key];
	if (v === undefined) {
		if (fallback !== undefined) return fallback;
		throw new ConfigError(`${path}${key}`, "is required");
	}
	if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
		throw new ConfigError(`${path}${key}`, "must be a non-negative number");
	}
	return v;
}

export function strList(o: Obj, key: string, path: string, fallback: string[] = []): string[] {
	const v = o[key];
	if (v === undefined) return fallback;
	if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) {
		throw new ConfigError(`${path}${key}`, "must be a list of strings");
	}
	return v as string[];
}

export function tableList(o: Obj, key: string, path: string): Obj[] {
	const v = o[key];
	if (v === undefined) return [];
	if (!Array.isArray(v)) throw new ConfigError(`${path}${key}`, "must be an array of tables");
	return v.map((x, i) => {
		if (!isObj(x)) throw new ConfigError(`${path}${key}[${i}]`, "must be a table");
		return x;
	});
}

/** `env:NAME` reads the secret from the environment; an unset variable is an error. */
export function resolveSecret(
	value: string | undefined,
	path: string,
	env: Record<string, string | undefined>,
): string | undefined {
	if (value === undefined || !value.startsWith("env:")) return value;
	const name = value.slice(4);
	const v = env[name];
	if (v === undefined || v === "") throw new ConfigError(path, `environment variable ${name} is not set`);
	return v;
}
