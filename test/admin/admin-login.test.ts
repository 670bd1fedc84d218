import { describe, expect, test } from "bun:test";
import { generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { AdminLoginService } from "../../src/admin/admin-login.ts";
import { ChangeBus } from "../../src/control/change-bus.ts";
import { fingerprintOf, formatOpenSshPublicKey, parsePublicKey } from "../../src/crypto/ed25519.ts";
import type { GatewayError } from "../../src/errors/gateway-error.ts";
import { useTestDatabase } from "../support/test-database.ts";
import { waitFor } from "../support/wait-for.ts";

const t = useTestDatabase();
const SETTINGS = { session_ttl_ms: 60_000, challenge_ttl_ms: 60_000, login_attempts_per_minute: 3 };

function newKey(): { line: string; privateKey: KeyObject } {
	const { publicKey, privateKey } = generateKeyPairSync("ed25519");
	const raw = Buffer.from(publicKey.export({ format: "jwk" }).x as string, "base64url");
	return { line: formatOpenSshPublicKey(raw, "op@test"), privateKey };
}

const codeOf = (p: Promise<unknown>) =>
	p.then(
		() => "resolved",
		(e: GatewayError) => e.code,
	);

async function logIn(service: AdminLoginService, key: { line: string; privateKey: KeyObject }, ip = "10.0.0.1") {
	const c = await service.challenge({ public_key: key.line }, "gw.test", ip);
	const signature = sign(null, Buffer.from(c.message), key.privateKey).toString("base64");
	return service.session({ challenge_id: c.challenge_id, signature }, ip);
}

describe("admin login", () => {
	test("a challenge made by one instance is redeemed by another (both on one Postgres)", async () => {
		const a = new AdminLoginService(t.db.sql, null, SETTINGS);
		const b = new AdminLoginService(t.db.sql, null, SETTINGS);
		const key = newKey();
		await a.addKey({ public_key: key.line });
		const c = await a.challenge({ public_key: key.line }, "gw.test", "10.0.0.2");
		const signature = sign(null, Buffer.from(c.message), key.privateKey).toString("base64");
		const s = await b.session({ challenge_id: c.challenge_id, signature }, "10.0.0.2");
		expect(s.token).toStartWith("ixs_");
		expect((await a.authenticate(s.token)).id).toBe(s.session_id);
		// the database holds the token's hash only
		const [row] = await t.db.sql`select token_hash from admin_sessions where id = ${s.session_id}`;
		expect(row?.token_hash).not.toContain(s.token);
	});

	test("a bad signature is refused, and uses the challenge up", async () => {
		const service = new AdminLoginService(t.db.sql, null, SETTINGS);
		const key = newKey();
		await service.addKey({ public_key: key.line });
		const c = await service.challenge({ public_key: key.line }, "gw.test", "10.0.0.3");
		const forged = sign(null, Buffer.from(`${c.message}x`), key.privateKey).toString("base64");
		expect(await codeOf(service.session({ challenge_id: c.challenge_id, signature: forged }, "10.0.0.3"))).toBe(
			"PLATFORM_ADMIN_BAD_SIGNATURE",
		);
		const good = sign(null, Buffer.from(c.message), key.privateKey).toString("base64");
		expect(await codeOf(service.session({ challenge_id: c.challenge_id, signature: good }, "10.0.0.3"))).toBe(
			"PLATFORM_ADMIN_CHALLENGE_REPLAYED",
		);
	});

	test("login attempts are limited per client IP and per key (429 with retry-after)", async () => {
		const service = new AdminLoginService(t.db.sql, null, SETTINGS);
		const key = newKey();
		const other = newKey();
		await service.addKey({ public_key: key.line });
		await service.addKey({ public_key: other.line });
		for (let i = 0; i < 3; i++) await service.challenge({ public_key: key.line }, "gw.test", `10.1.0.${i}`);
		// the key's budget is spent whatever the address
		const err = await service.challenge({ public_key: key.line }, "gw.test", "10.1.1.1").catch((e: GatewayError) => e);
		expect((err as GatewayError).code).toBe("PLATFORM_RATE_LIMITED");
		expect((err as GatewayError).retryAfterSeconds).toBeGreaterThan(0);
		// and an address's budget whatever the key
		for (let i = 0; i < 3; i++)
			await service.challenge({ public_key: other.line }, "gw.test", "10.2.0.1").catch(() => {});
		const third = newKey();
		await service.addKey({ public_key: third.line });
		expect(await codeOf(service.challenge({ public_key: third.line }, "gw.test", "10.2.0.1"))).toBe(
			"PLATFORM_RATE_LIMITED",
		);
	});

	test("a revocation on one worker reaches another worker's cached session through the change bus", async () => {
		const channel = `test_admin_${crypto.randomUUID()}`;
		const busA = new ChangeBus({ channel });
		const busB = new ChangeBus({ channel });
		const a = new AdminLoginService(t.db.sql, busA, SETTINGS);
		const b = new AdminLoginService(t.db.sql, busB, SETTINGS);
		busB.subscribe((e) => {
			if (e.kind === "admin-sessions") b.dropCache();
		});
		try {
			const key = newKey();
			await a.addKey({ public_key: key.line });
			const s = await logIn(a, key, "10.3.0.1");
			await b.authenticate(s.token); // cached in b
			await a.revokeSession(s.session_id);
			const started = Date.now();
			await waitFor(async () => (await codeOf(b.authenticate(s.token))) === "PLATFORM_ADMIN_SESSION_REVOKED", {
				timeoutMs: 1_000,
				what: "worker b refusing the revoked session",
			});
			expect(Date.now() - started).toBeLessThan(1_000);
		} finally {
			await busA.close();
			await busB.close();
		}
	});

	test("enrolment from the environment is idempotent and never revives a revoked key", async () => {
		const service = new AdminLoginService(t.db.sql, null, SETTINGS);
		const key = newKey();
		expect(await service.enrol([key.line])).toBe(1);
		expect(await service.enrol([key.line])).toBe(0);
		const fingerprint = fingerprintOf(parsePublicKey(key.line).raw);
		const listed = (await service.listKeys(false)).find((k) => k.fingerprint === fingerprint);
		expect(listed?.name).toBe("op@test");
		expect(listed).toBeDefined();
		await service.revokeKey(listed?.id as string);
		expect(await service.enrol([key.line])).toBe(0);
		expect(await codeOf(service.challenge({ public_key: key.line }, "gw.test", "10.4.0.1"))).toBe(
			"PLATFORM_ADMIN_KEY_REVOKED",
		);
	});

	test("an expired session and an unknown key are refused with their own codes", async () => {
		const short = new AdminLoginService(t.db.sql, null, { ...SETTINGS, session_ttl_ms: 1 });
		const key = newKey();
		await short.addKey({ public_key: key.line });
		const s = await logIn(short, key, "10.5.0.1");
		await waitFor(async () => (await codeOf(short.authenticate(s.token))) === "PLATFORM_ADMIN_SESSION_EXPIRED", {
			what: "the session expiring",
		});
		expect(await codeOf(short.challenge({ fingerprint: "SHA256:nobody" }, "gw.test", "10.5.0.1"))).toBe(
			"PLATFORM_ADMIN_KEY_UNKNOWN",
		);
	});
});
