import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import {
	apiKeyPrefix,
	generateApiKey,
	hashApiKey,
	isGatewayApiKey,
	timingSafeEqualStr,
} from "../../src/auth/api-key-format.ts";

describe("generateApiKey", () => {
	test("sk-ix- + 43 base62 characters, prefix and sha-256 hash", () => {
		const { key, prefix, hash } = generateApiKey();
		expect(key).toMatch(/^sk-ix-[0-9A-Za-z]{43}$/);
		expect(prefix).toBe(key.slice(0, 12));
		expect(apiKeyPrefix(key)).toBe(prefix);
		expect(hash).toBe(createHash("sha256").update(key).digest("hex"));
		expect(hashApiKey(key)).toBe(hash);
		expect(isGatewayApiKey(key)).toBe(true);
	});

	test("keys are unique and use the whole alphabet", () => {
		const keys = new Set<string>();
		const chars = new Set<string>();
		for (let i = 0; i < 500; i++) {
			const { key } = generateApiKey();
			keys.add(key);
			for (const c of key.slice(6)) chars.add(c);
		}
		expect(keys.size).toBe(500);
		expect(chars.size).toBe(62);
	});

	test("shape check", () => {
		expect(isGatewayApiKey("sk-ix-short")).toBe(false);
		expect(isGatewayApiKey(`sk-ix-${"_".repeat(43)}`)).toBe(false);
		expect(isGatewayApiKey(`sk-xx-${"a".repeat(43)}`)).toBe(false);
	});
});

describe("timingSafeEqualStr", () => {
	test("equal, different, and different lengths", () => {
		expect(timingSafeEqualStr("admin-token", "admin-token")).toBe(true);
		expect(timingSafeEqualStr("admin-token", "admin-tokeN")).toBe(false);
		expect(timingSafeEqualStr("admin-token", "admin-token-longer")).toBe(false);
		expect(timingSafeEqualStr("", "")).toBe(true);
		expect(timingSafeEqualStr("", "x")).toBe(false);
	});
});
