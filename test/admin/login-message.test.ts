import { expect, test } from "bun:test";
import { loginMessage, loginMessageHost } from "../../src/admin/login-message.ts";

test("the canonical login message: fixed lines in a fixed order, the host recoverable", () => {
	const message = loginMessage({
		nonce: "n0nce",
		fingerprint: "SHA256:abc",
		host: "gw.example.com:8443",
		expiresAt: new Date(Date.UTC(2030, 0, 2, 3, 4, 5)),
	});
	expect(message).toBe(
		"interchange-admin-login\nnonce: n0nce\nfingerprint: SHA256:abc\nhost: gw.example.com:8443\nexpires: 2030-01-02T03:04:05.000Z",
	);
	expect(loginMessageHost(message)).toBe("gw.example.com:8443");
	expect(loginMessageHost("something else\nhost: evil")).toBeNull();
});
