import { describe, expect, test } from "bun:test";
import { generateKeyPairSync, sign } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
	fingerprintOf,
	formatOpenSshPublicKey,
	PublicKeyFormatError,
	parsePublicKey,
	verifySignature,
} from "../../src/crypto/ed25519.ts";

/** Made with `ssh-keygen -t ed25519 -C vector`; `ssh-keygen -l -E sha256` printed the fingerprint. */
const VECTOR_PUB = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIC0gNf4RxFLax7I04swLoXzA5WlBDT9/2z9GR8J5bJCA vector";
const VECTOR_FINGERPRINT = "SHA256:yZ3r8X6nJSsPb0PotNz5RrPF7A4cFvWcE/wMSSJlBR8";

describe("Ed25519 public keys", () => {
	test("an OpenSSH line parses to the 32 raw bytes and its comment; the fingerprint is ssh-keygen's", () => {
		const key = parsePublicKey(VECTOR_PUB);
		expect(key.raw).toHaveLength(32);
		expect(key.comment).toBe("vector");
		expect(fingerprintOf(key.raw)).toBe(VECTOR_FINGERPRINT);
		expect(formatOpenSshPublicKey(key.raw, "vector")).toBe(VECTOR_PUB);
	});

	test("the raw key in base64 (standard or url-safe) reads as the same key", () => {
		const raw = Buffer.from(parsePublicKey(VECTOR_PUB).raw);
		expect(fingerprintOf(parsePublicKey(raw.toString("base64")).raw)).toBe(VECTOR_FINGERPRINT);
		expect(fingerprintOf(parsePublicKey(raw.toString("base64url")).raw)).toBe(VECTOR_FINGERPRINT);
	});

	test("a fresh key's fingerprint matches `ssh-keygen -l -E sha256` on this machine", () => {
		if (!Bun.which("ssh-keygen")) {
			// no ssh-keygen: the recorded vector above is the check
			expect(fingerprintOf(parsePublicKey(VECTOR_PUB).raw)).toBe(VECTOR_FINGERPRINT);
			return;
		}
		const { publicKey } = generateKeyPairSync("ed25519");
		const raw = Buffer.from(publicKey.export({ format: "jwk" }).x as string, "base64url");
		const dir = mkdtempSync(join(tmpdir(), "ix-ed-"));
		try {
			writeFileSync(join(dir, "k.pub"), `${formatOpenSshPublicKey(raw, "t")}\n`);
			const out = Bun.spawnSync(["ssh-keygen", "-l", "-E", "sha256", "-f", join(dir, "k.pub")]).stdout.toString();
			expect(out.split(" ")[1]).toBe(fingerprintOf(raw));
		} finally {
			rmSync(dir, { recursive: true, force: true });
		}
	});

	test("other key types, truncated blobs and wrong lengths are refused with a reason", () => {
		const cases = [
			"ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ comment",
			"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIC0gNf4R",
			Buffer.alloc(31).toString("base64"),
			"not a key at all",
		];
		for (const c of cases) expect(() => parsePublicKey(c)).toThrow(PublicKeyFormatError);
	});

	test("a signature verifies for its message and key only", () => {
		const { publicKey, privateKey } = generateKeyPairSync("ed25519");
		const raw = Buffer.from(publicKey.export({ format: "jwk" }).x as string, "base64url");
		const sig = sign(null, Buffer.from("hello"), privateKey);
		expect(verifySignature(raw, "hello", sig)).toBe(true);
		expect(verifySignature(raw, "hellO", sig)).toBe(false);
		expect(verifySignature(raw, "hello", sig.subarray(1))).toBe(false);
		const other = Buffer.from(
			generateKeyPairSync("ed25519").publicKey.export({ format: "jwk" }).x as string,
			"base64url",
		);
		expect(verifySignature(other, "hello", sig)).toBe(false);
	});
});
