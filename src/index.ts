/**
 * Interchange entry point (`bun run start`): loads and validates the configuration, then
 * runs the supervisor, which owns the database, the audit writer and the HTTP workers.
 */

import pkg from "../package.json" with { type: "json" };
import { ConfigError } from "./config/config-error.ts";
import { loadConfig } from "./config/load-config.ts";
import { createLogger } from "./logging/logger.ts";
import { redactUrls } from "./logging/redact-url.ts";
import { startSupervisor } from "./server/supervisor.ts";

async function main(): Promise<void> {
	let config: Awaited<ReturnType<typeof loadConfig>>;
	try {
		config = await loadConfig();
	} catch (e) {
		if (e instanceof ConfigError) {
			console.error(e.message);
			process.exit(2);
		}
		throw e;
	}
	const logger = createLogger(config.log_level, { role: "supervisor" });
	if (config.env === "dev" && config.auth.static_keys.length === 0 && !config.auth.admin_token) {
		logger.warn(
			"no GATEWAY_API_KEYS and no GATEWAY_ADMIN_TOKEN: no client key can be used or created, every data-plane request will get 401",
		);
	}
	if (!process.env.BUN_CONFIG_MAX_HTTP_REQUESTS) {
		// read by Bun at process start only: setting it from here would have no effect
		logger.warn(
			"BUN_CONFIG_MAX_HTTP_REQUESTS is not set: at most 256 upstream requests (streams included) run at once; `bun run start` sets 65535",
		);
	}
	const gateway = await startSupervisor(config, logger, pkg.version);
	let stopping = false;
	const onSignal = (sig: string) => {
		// a second Ctrl-C means "now"; repeated SIGTERMs (process managers) just wait for the drain
		if (stopping) {
			if (sig === "SIGINT") {
				logger.warn("second SIGINT: exiting without waiting for the drain");
				process.exit(1);
			}
			return;
		}
		stopping = true;
		gateway.shutdown(sig).then(
			() => process.exit(0),
			(err) => {
				logger.error({ err }, "shutdown failed");
				process.exit(1);
			},
		);
	};
	process.on("SIGTERM", () => onSignal("SIGTERM"));
	process.on("SIGINT", () => onSignal("SIGINT"));
}

main().catch((err) => {
	console.error("interchange failed to start:", redactUrls(err instanceof Error ? err.message : String(err)));
	process.exit(1);
});
