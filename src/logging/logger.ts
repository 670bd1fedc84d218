import pino from "pino";
import { redactUrls } from "./redact-url.ts";

export type Logger = pino.Logger;

/** Paths that may carry secrets anywhere a log call passes objects; censored, never printed. */
export const REDACT_PATHS = [
	"authorization",
	"*.authorization",
	"headers.authorization",
	'headers["x-api-key"]',
	'headers["api-key"]',
	"*.headers.authorization",
	'*.headers["x-api-key"]',
	'*.headers["api-key"]',
	"api_key",
	"*.api_key",
	"apiKey",
	"*.apiKey",
	"key",
	"*.key",
	"token",
	"*.token",
	"admin_token",
	"*.admin_token",
	"encryption_key",
	"*.encryption_key",
	"password",
	"*.password",
	"database_url",
	"*.database_url",
];

export function createLogger(level: string, bindings?: Record<string, unknown>): Logger {
	return pino({
		level,
		base: { ...bindings },
		redact: { paths: REDACT_PATHS, censor: "[REDACTED]" },
		// errors are the one place a URL reaches a log line unannounced (a driver's message,
		// fetch's `path`); plain fields are masked where they are logged (redactUrl)
		serializers: { err: serializeError },
		timestamp: pino.stdTimeFunctions.isoTime,
	});
}

/** pino's error serializer, with every URL in the error masked. */
export function serializeError(err: unknown): unknown {
	const out = pino.stdSerializers.err(err as Error) as unknown as Record<string, unknown>;
	if (!out || typeof out !== "object") return out;
	for (const field of ["message", "stack", "path", "url"]) {
		const v = out[field];
		if (typeof v === "string") out[field] = redactUrls(v);
	}
	return out;
}
