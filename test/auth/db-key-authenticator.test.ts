import { describe, expect, test } from "bun:test";
import { generateApiKey, hashApiKey } from "../../src/auth/api-key-format.ts";
import { AuthCache } from "../../src/auth/auth-cache.ts";
import { type CachedKey, DbKeyAuthenticator } from "../../src/auth/db-key-authenticator.ts";
import type { KeyRecord, KeyStore } from "../../src/auth/key-store.ts";
import { StaticKeyAuthenticator } from "../../src/auth/static-key-authenticator.ts";
import { GatewayError } from "../../src/errors/gateway-error.ts";

function fakeStore(records: Map<string, KeyRecord>) {
	const s = {
		calls: 0,
		down: false,
		delayMs: 0,
		async findByHash(hash: string) {
			s.calls++;
			if (s.delayMs) await Bun.sleep(s.delayMs);
			if (s.down) throw new Error("connection refused");
			return records.get(hash) ?? null;
		},
	};
	return s satisfies KeyStore;
}

const record = (over: Partial<KeyRecord> = {}): KeyRecord => ({
	id: "key_1",
	tenantId: "acme",
	models: ["gpt-4o-mini"],
	limits: { rpm: 5 },
	tenantLimits: { budget_usd: 10 },
	expiresAt: null,
	revokedAt: null,
	...over,
});

async function codeOf(fn: () => unknown): Promise<string> {
	try {
		await fn();
	} catch (e) {
		if (e instanceof GatewayError) return e.code;
		throw e;
	}
	return "ok";
}

describe("DbKeyAuthenticator", () => {
	test("a known key → principal with allowlist, key and tenant limits; cached (sync on hit)", async () => {
		const k = generateApiKey();
		const store = fakeStore(new Map([[k.hash, record()]]));
		const auth = new DbKeyAuthenticator({ store });
		const p = await auth.authenticate(k.key);
		expect(p.keyId).toBe("key_1");
		expect(p.tenantId).toBe("acme");
		expect([...(p.models ?? [])]).toEqual(["gpt-4o-mini"]);
		expect(p.limits).toEqual({ rpm: 5 });
		expect((p as { tenantLimits?: unknown }).tenantLimits).toEqual({
			budget_usd: 10,
		});
		const again = auth.authenticate(k.key);
		expect(again).not.toBeInstanceOf(Promise);
		expect(store.calls).toBe(1);
	});

	test("keys not shaped like ours never reach the store", async () => {
		const store = fakeStore(new Map());
		const auth = new DbKeyAuthenticator({ store });
		for (let i = 0; i < 1000; i++) {
			expect(await codeOf(() => auth.authenticate(`sk-random-${crypto.randomUUID()}`))).toBe(
				"PLATFORM_AUTH_INVALID_API_KEY",
			);
		}
		expect(store.calls).toBe(0);
	});

	test("an unknown well-formed key is looked up once, then answered from the bounded negative cache", async () => {
		const store = fakeStore(new Map());
		const cache = new AuthCache<CachedKey>({ maxNegative: 50 });
		const auth = new DbKeyAuthenticator({ store, cache });
		const k = generateApiKey().key;
		for (let i = 0; i < 20; i++) expect(await codeOf(() => auth.authenticate(k))).toBe("PLATFORM_AUTH_INVALID_API_KEY");
		expect(store.calls).toBe(1);
		for (let i = 0; i < 500; i++) await codeOf(() => auth.authenticate(generateApiKey().key));
		expect(cache.size.negative).toBe(50);
	});

	test("concurrent misses for one key share one lookup", async () => {
		const k = generateApiKey();
		const store = fakeStore(new Map([[k.hash, record()]]));
		store.delayMs = 20;
		const auth = new DbKeyAuthenticator({ store });
		await Promise.all(Array.from({ length: 25 }, () => auth.authenticate(k.key)));
		expect(store.calls).toBe(1);
	});

	test("revoked and expired keys get their own 401 codes; expiry is checked on every hit", async () => {
		let now = 1_000;
		const revoked = generateApiKey();
		const expiring = generateApiKey();
		const store = fakeStore(
			new Map([
				[revoked.hash, record({ id: "key_r", revokedAt: 500 })],
				[expiring.hash, record({ id: "key_e", expiresAt: 2_000 })],
			]),
		);
		const auth = new DbKeyAuthenticator({ store, now: () => now });
		expect(await codeOf(() => auth.authenticate(revoked.key))).toBe("PLATFORM_AUTH_KEY_REVOKED");
		expect(await codeOf(() => auth.authenticate(expiring.key))).toBe("ok");
		now = 2_000;
		expect(await codeOf(() => auth.authenticate(expiring.key))).toBe("PLATFORM_AUTH_KEY_EXPIRED");
	});

	test("store down: 503 without a cached entry, the stale entry with one", async () => {
		let now = 0;
		const k = generateApiKey();
		const store = fakeStore(new Map([[k.hash, record()]]));
		const cache = new AuthCache<CachedKey>({
			positiveTtlMs: 10,
			maxStaleMs: 1000,
			now: () => now,
		});
		const auth = new DbKeyAuthenticator({ store, cache, now: () => now });
		await auth.authenticate(k.key);
		store.down = true;
		now = 100; // stale
		expect((await auth.authenticate(k.key)).keyId).toBe("key_1");
		expect(await codeOf(() => auth.authenticate(generateApiKey().key))).toBe("PLATFORM_AUTH_UNAVAILABLE");
	});

	test("after dropId the next request reads the store again (admin change)", async () => {
		const k = generateApiKey();
		const records = new Map([[k.hash, record()]]);
		const store = fakeStore(records);
		const auth = new DbKeyAuthenticator({ store });
		await auth.authenticate(k.key);
		records.set(k.hash, record({ revokedAt: Date.now() }));
		auth.cache.dropId("key_1");
		expect(await codeOf(() => auth.authenticate(k.key))).toBe("PLATFORM_AUTH_KEY_REVOKED");
		expect(store.calls).toBe(2);
	});

	test("static dev keys are accepted without a lookup", async () => {
		const store = fakeStore(new Map());
		const auth = new DbKeyAuthenticator({
			store,
			staticKeys: new StaticKeyAuthenticator(["sk-dev-1"]),
		});
		expect((await auth.authenticate("sk-dev-1")).keyId).toBeNull();
		expect(store.calls).toBe(0);
		expect(hashApiKey("x")).toHaveLength(64);
	});
});
