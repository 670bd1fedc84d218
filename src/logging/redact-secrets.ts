/** What a masked secret reads as in stored bodies. */
export const REDACTED = "[REDACTED]";

/** JSON fields whose string values are credentials, whatever they look like. */
const SECRET_FIELD =
	/("(?:api[_-]?key|apikey|x-api-key|password|passwd|secret|client_secret|token|access_token|refresh_token|authorization|aws_secret_access_key|private_key)"\s*:\s*")((?:[^"\\]|\\.)*)(")/gi;

/**
 * Credentials recognised by their shape: OpenAI-style (`sk-…`, the gateway's `sk-ix-…`, Anthropic's
 * `sk-ant-…`), bearer tokens, AWS access key ids, and `aws_secret_access_key=…` assignments.
 * The minimum lengths keep ordinary words (`sk-learn`) readable.
 */
const SECRET_SHAPES: readonly [RegExp, string][] = [
	[/\bsk-ant-[A-Za-z0-9_-]{8,}/g, REDACTED],
	[/\bsk-[A-Za-z0-9_-]{16,}/g, REDACTED],
	[/\b(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi, `$1${REDACTED}`],
	[/\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}\b/g, REDACTED],
	[/\b(aws_secret_access_key\s*[=:]\s*)[A-Za-z0-9/+=]{40}\b/gi, `$1${REDACTED}`],
];

export type Redactor = (text: string) => string;

/**
 * Masks secrets in text before it is stored: the built-in rules above, then every match of
 * `extraPatterns` (the operator's `[logging] redact_patterns`). Patterns are compiled once.
 */
export function createRedactor(extraPatterns: readonly string[] = []): Redactor {
	const extra = extraPatterns.map((p) => new RegExp(p, "g"));
	return (text) => {
		let out = text.replace(SECRET_FIELD, `$1${REDACTED}$3`);
		for (const [re, by] of SECRET_SHAPES) out = out.replace(re, by);
		for (const re of extra) out = out.replace(re, REDACTED);
		return out;
	};
}
