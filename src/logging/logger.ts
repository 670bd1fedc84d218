import pino from "pino";

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
		timestamp: pino.stdTimeFunctions.isoTime,
	});
}

/** Masks credentials inside a URL (postgres://user:pass@host → postgres://user:***@host). */
export function redactUrl(url: string): string {
	return url.replace(/\/\/([^:/@]+):([^@]*)@/, "//$1:***@");
}
