import { expect, test } from "bun:test";
import { ConfigError } from "../../src/config/config-error.ts";
import { buildConfig } from "../../src/config/load-config.ts";
import { parsePublicKey } from "../../src/crypto/ed25519.ts";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIC0gNf4RxFLax7I04swLoXzA5WlBDT9/2z9GR8J5bJCA vector";

test("[admin]: defaults, env overrides, and every key checked", () => {
	const d = buildConfig({}, {}).admin;
	expect(d).toEqual({
		token_enabled: true,
		public_keys: [],
		session_ttl_ms: 43_200_000,
		challenge_ttl_ms: 60_000,
		login_attempts_per_minute: 10,
	});
	const env = buildConfig(
		{ admin: { session_ttl_ms: 60_000 } },
		{
			GATEWAY_ADMIN_TOKEN_ENABLED: "false",
			GATEWAY_ADMIN_PUBLIC_KEYS: `${KEY}, ${Buffer.from(parsePublicKey(KEY).raw).toString("base64")}`,
		},
	).admin;
	expect(env.token_enabled).toBe(false);
	expect(env.public_keys).toHaveLength(2);
	expect(env.session_ttl_ms).toBe(60_000);
	expect(() => buildConfig({ admin: { tokens: true } }, {})).toThrow(ConfigError);
	expect(() => buildConfig({}, { GATEWAY_ADMIN_PUBLIC_KEYS: "ssh-ed25519 AAAAtruncated" })).toThrow(
		"admin.public_keys[0]",
	);
	expect(() => buildConfig({ admin: { token_enabled: "no" } }, {})).toThrow("admin.token_enabled");
});
