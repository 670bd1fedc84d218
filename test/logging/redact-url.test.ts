import { describe, expect, test } from "bun:test";
import { serializeError } from "../../src/logging/logger.ts";
import { redactUrl, redactUrls } from "../../src/logging/redact-url.ts";

describe("redactUrl", () => {
	test("a password in the user info is masked, one containing @ included", () => {
		expect(redactUrl("postgres://app:hunter2@db.internal:5432/gw")).toBe("postgres://app:***@db.internal:5432/gw");
		const masked = redactUrl("postgres://app:p@ss@word@db.internal:5432/gw");
		expect(masked).toBe("postgres://app:***@db.internal:5432/gw");
		expect(masked).not.toContain("ss@word");
	});

	test("secret query parameters are masked, the rest stays readable", () => {
		const masked = redactUrl("postgres://app@db.internal/gw?sslmode=require&password=hunter2&sslpassword=pw2");
		expect(masked).toBe("postgres://app@db.internal/gw?sslmode=require&password=***&sslpassword=***");
		expect(redactUrl("https://api.example.com/v1?api_key=sk-123&x=1")).toBe(
			"https://api.example.com/v1?api_key=***&x=1",
		);
	});

	test("URLs without credentials are unchanged; unparsable ones lose everything before their last @", () => {
		expect(redactUrl("postgres://db.internal:5432/gw")).toBe("postgres://db.internal:5432/gw");
		expect(redactUrl("postgres://app:pa@ss@[db.internal/gw")).toBe("postgres://***@[db.internal/gw");
	});

	test("free text: every URL in it is masked", () => {
		const text = "connect failed for postgres://app:hunter2@db:5432/gw (retrying https://x:y@h/p?token=t)";
		const masked = redactUrls(text);
		expect(masked).toBe("connect failed for postgres://app:***@db:5432/gw (retrying https://x:***@h/p?token=***)");
	});

	test("logged errors have the URLs in their message, stack and path masked", () => {
		const err = Object.assign(new Error("cannot reach postgres://app:hunter2@db/gw"), {
			path: "https://u:s3cret@upstream.example/v1",
		});
		const out = JSON.stringify(serializeError(err));
		expect(out).not.toContain("hunter2");
		expect(out).not.toContain("s3cret");
		expect(out).toContain("postgres://app:***@db/gw");
	});
});
