import { describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { maskSecret, parseEncryptionKey, SecretBox, SecretBoxError } from "../../src/crypto/secret-box.ts";

const key = randomBytes(32);

describe("SecretBox", () => {
	test("round trip in v1:<iv>:<data> form, fresh IV each time", () => {
		const box = new SecretBox(key);
		const sealed = box.encrypt("sk-live-secret-ünïcode");
		expect(sealed).toMatch(/^v1:[A-Za-z0-9+/]{16}:[A-Za-z0-9+/=]+$/);
		expect(box.decrypt(sealed)).toBe("sk-live-secret-ünïcode");
		expect(box.encrypt("same")).not.toBe(box.encrypt("same"));
	});

	test("the wrong key fails", () => {
		const sealed = new SecretBox(key).encrypt("secret");
		expect(() => new SecretBox(randomBytes(32)).decrypt(sealed)).toThrow(SecretBoxError);
	});

	test("tampered ciphertext, tag or iv fails", () => {
		const box = new SecretBox(key);
		const [v, iv, data] = box.encrypt("a provider secret").split(":");
		const bytes = Buffer.from(data, "base64");
		for (const at of [0, bytes.length - 1]) {
			const flipped = Buffer.from(bytes);
			flipped[at] ^= 1;
			expect(() => box.decrypt(`${v}:${iv}:${flipped.toString("base64")}`)).toThrow(/wrong key or tampered/);
		}
		const ivBytes = Buffer.from(iv, "base64");
		ivBytes[0] ^= 1;
		expect(() => box.decrypt(`${v}:${ivBytes.toString("base64")}:${data}`)).toThrow(SecretBoxError);
		expect(() => box.decrypt("v2:abc:def")).toThrow(/v1/);
		expect(() => box.decrypt(`v1:${iv}:AAAA`)).toThrow(/truncated/);
	});

	test("context is bound as associated data", () => {
		const box = new SecretBox(key);
		const sealed = box.encrypt("secret", "account:1");
		expect(box.decrypt(sealed, "account:1")).toBe("secret");
		expect(() => box.decrypt(sealed, "account:2")).toThrow(SecretBoxError);
		expect(() => box.decrypt(sealed)).toThrow(SecretBoxError);
	});
});

describe("parseEncryptionKey", () => {
	test("hex, base64 and base64url keys are used as is", () => {
		expect(parseEncryptionKey(key.toString("hex")).equals(key)).toBe(true);
		expect(parseEncryptionKey(key.toString("base64")).equals(key)).toBe(true);
		expect(parseEncryptionKey(` ${key.toString("base64url")}\n`).equals(key)).toBe(true);
	});

	test("a passphrase is stretched deterministically; short ones are refused", () => {
		const a = parseEncryptionKey("correct horse battery staple");
		expect(a.length).toBe(32);
		expect(parseEncryptionKey("correct horse battery staple").equals(a)).toBe(true);
		expect(parseEncryptionKey("correct horse battery stapler").equals(a)).toBe(false);
		expect(() => parseEncryptionKey("short")).toThrow(SecretBoxError);
	});

	test("fromEnv", () => {
		expect(SecretBox.fromEnv({})).toBeNull();
		const box = SecretBox.fromEnv({
			GATEWAY_ENCRYPTION_KEY: key.toString("hex"),
		});
		expect(box?.decrypt(new SecretBox(key).encrypt("x"))).toBe("x");
	});
});

describe("maskSecret", () => {
	test.each([
		["sk-abcdef123456", "sk-…3456"],
		["sk-ant-api03-abcdefghijklmnop", "sk-…mnop"],
		["AIzaSyA1234567890abcd", "…abcd"],
		["sk-short", "sk-…"],
		["", "…"],
	])("%p → %p", (secret, masked) => {
		expect(maskSecret(secret)).toBe(masked);
	});
});
