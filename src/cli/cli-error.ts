/** Exit codes scripts can rely on. */
export const EXIT = { ok: 0, refused: 1, usage: 2, notLoggedIn: 3 } as const;

/** A failure the CLI reports as one line and an exit code (no stack trace). */
export class CliError extends Error {
	override readonly name = "CliError";
	constructor(
		readonly exitCode: number,
		message: string,
	) {
		super(message);
	}
}

export const usageError = (message: string) => new CliError(EXIT.usage, `${message} (see \`ix help\`)`);
