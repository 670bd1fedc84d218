import { ConfigError } from "./config-error.ts";
import { expectObj, int, type Obj, rejectUnknown, str, strList } from "./validate.ts";

/** Which requests keep their bodies: none (default), only those that failed, or all. */
export const LOG_BODIES = ["none", "errors", "all"] as const;
export type LogBodies = (typeof LOG_BODIES)[number];

export interface LoggingConfig {
	/** The default; a tenant's or key's own `log_bodies` wins over it. */
	log_bodies: LogBodies;
	/** Days request_bodies rows are kept. */
	body_retention_days: number;
	/** Longest body stored (bytes of UTF-8); the rest is cut and the row flagged truncated. */
	max_body_bytes: number;
	/** Extra regular expressions whose matches are masked in stored bodies (beside the built-in secret rules). */
	redact_patterns: string[];
}

export function isLogBodies(v: unknown): v is LogBodies {
	return (LOG_BODIES as readonly unknown[]).includes(v);
}

/** `[logging]` of the TOML file; `GATEWAY_LOG_BODIES` overrides `log_bodies`. */
export function parseLoggingConfig(raw: unknown, env: Record<string, string | undefined>): LoggingConfig {
	const o: Obj = expectObj(raw, "logging");
	rejectUnknown(o, ["log_bodies", "body_retention_days", "max_body_bytes", "redact_patterns"], "logging");
	const logBodies = env.GATEWAY_LOG_BODIES || str(o, "log_bodies", "logging.", "none");
	if (!isLogBodies(logBodies)) {
		throw new ConfigError("logging.log_bodies", `must be one of ${LOG_BODIES.join(", ")}, got "${logBodies}"`);
	}
	const patterns = strList(o, "redact_patterns", "logging.");
	for (const [i, p] of patterns.entries()) {
		try {
			new RegExp(p, "g");
		} catch (e) {
			throw new ConfigError(
				`logging.redact_patterns[${i}]`,
				`is not a valid regular expression: ${(e as Error).message}`,
			);
		}
	}
	return {
		log_bodies: logBodies,
		body_retention_days: int(o, "body_retention_days", "logging.", 7, 1, 3_650),
		max_body_bytes: int(o, "max_body_bytes", "logging.", 64 * 1024, 1_024, 16 * 1024 * 1024),
		redact_patterns: patterns,
	};
}
