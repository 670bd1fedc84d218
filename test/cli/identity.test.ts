import { expect, test } from "bun:test";
import { verify } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadIdentity, signMessage } from "../../src/cli/identity.ts";

/** A test-only key made with `ssh-keygen -t ed25519 -N "" -C vector` (unencrypted OpenSSH format). */
const OPENSSH_PRIVATE = `-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACAtIDX+EcRS2seyNOLMC6F8wOVpQQ0/f9s/RkfCeWyQgAAAAJCGgIqLhoCK
iwAAAAtzc2gtZWQyNTUxOQAAACAtIDX+EcRS2seyNOLMC6F8wOVpQQ0/f9s/RkfCeWyQgA
AAAEBW6nl3k0S5HdM4AoHy3QCLUxgKPtCa9UTbDKdR6fZcMi0gNf4RxFLax7I04swLoXzA
5WlBDT9/2z9GR8J5bJCAAAAABnZlY3RvcgECAwQFBgc=
-----END OPENSSH PRIVATE KEY-----
`;

test("an ssh-keygen private key signs as the key its fingerprint names", () => {
	const dir = mkdtempSync(join(tmpdir(), "ix-id-"));
	try {
		writeFileSync(join(dir, "id"), OPENSSH_PRIVATE);
		const id = loadIdentity(join(dir, "id"));
		expect(id.fingerprint).toBe("SHA256:yZ3r8X6nJSsPb0PotNz5RrPF7A4cFvWcE/wMSSJlBR8");
		const sig = Buffer.from(signMessage(id, "challenge"), "base64");
		expect(verify(null, Buffer.from("challenge"), id.privateKey, sig)).toBe(true);
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
});

test("a missing key file says to run ix keygen", () => {
	expect(() => loadIdentity("/nonexistent/id_ed25519")).toThrow("run `ix keygen`");
});
