import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../support/free-port.ts";
import { runGatewayToExit } from "../support/gateway-server.ts";

/** What the gateway shows of itself: its startup log, its port, /metrics and /readyz. */

describe("startup log", () => {
	test("the database password never reaches the log, whether in the user info (with an @) or as ?password=", async () => {
		const dataDir = mkdtempSync(join(tmpdir(), "ix-redact-"));
		try {
			// port 1 refuses at once: the gateway logs the URL it uses, then fails to connect
			const { code, output } = await runGatewayToExit({
				PORT: String(await freePort()),
				GATEWAY_DATA_DIR: dataDir,
				DATABASE_URL: "postgres://gw:pa@ss-Secret1@127.0.0.1:1/gw?password=Hunter2Secret&sslmode=disable",
			});
			expect(code).not.toBe(0);
			expect(output).toContain("using Postgres");
			expect(output).toContain("postgres://gw:***@127.0.0.1:1/gw?password=***&sslmode=disable");
			expect(output).not.toContain("Secret1");
			expect(output).not.toContain("Hunter2Secret");
		} finally {
			rmSync(dataDir, { recursive: true, force: true });
		}
	}, 60_000);
});
