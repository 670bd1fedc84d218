/** A configuration problem found at startup; `path` names the offending key (e.g. providers[0].type). */
export class ConfigError extends Error {
	constructor(
		readonly path: string,
		message: string,
	) {
		super(`config: ${path}: ${message}`);
		this.name = "ConfigError";
	}
}
