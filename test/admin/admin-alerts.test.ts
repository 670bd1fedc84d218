import { describe, expect, test } from "bun:test";
import { AlertService } from "../../src/admin/alerts.ts";
import { SecretBox } from "../../src/crypto/secret-box.ts";
import { GatewayError } from "../../src/errors/gateway-error.ts";
import { useTestDatabase } from "../support/test-database.ts";

const t = useTestDatabase();
const box = new SecretBox(new Uint8Array(32).fill(7));

describe("alert webhooks through the admin API", () => {
	test("a webhook URL pointing at a private, loopback or metadata address is refused, naming the field", async () => {
		const service = new AlertService(t.db.sql, box, { production: true, allowlist: [] }, []);
		for (const url of ["http://169.254.169.254/latest", "http://127.0.0.1:8080/x", "http://[::ffff:127.0.0.1]/x"]) {
			const err = await service.create({ url }).catch((e) => e);
			expect(err).toBeInstanceOf(GatewayError);
			expect((err as GatewayError).code).toBe("PLATFORM_INVALID_REQUEST");
			expect((err as GatewayError).param).toBe("url");
			expect((err as GatewayError).message).toContain("url host");
		}
		expect(await service.list()).toEqual([]);
	});

	test("the secret is sealed at rest", async () => {
		const service = new AlertService(t.db.sql, box, { production: false, allowlist: [] }, []);
		const w = await service.create({ url: "http://127.0.0.1:9/x", secret: "plain-secret-value" });
		const [row] = await t.db.sql<{ secret: string }[]>`select secret from alert_webhooks where id = ${w.id}`;
		expect(row?.secret).not.toContain("plain-secret-value");
		expect(w.secret).toBe("plain-…alue");
	});
});
