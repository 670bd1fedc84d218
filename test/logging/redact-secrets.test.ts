import { describe, expect, test } from "bun:test";
import { createRedactor, REDACTED } from "../../src/logging/redact-secrets.ts";

const redact = createRedactor();

describe("body redaction", () => {
	test("OpenAI, gateway and Anthropic keys are masked wherever they appear", () => {
		const text = "use sk-proj-abcdefghijklmnop1234 or sk-ix-AbCdEfGhIjKlMnOpQrStUv or sk-ant-api03-xyzXYZ12345678";
		const out = redact(text);
		expect(out).not.toContain("sk-proj-abcdefghijklmnop1234");
		expect(out).not.toContain("sk-ix-AbCdEfGh");
		expect(out).not.toContain("sk-ant-api03");
		expect(out.split(REDACTED).length - 1).toBe(3);
	});

	test("bearer tokens, AWS keys and secret JSON fields are masked; ordinary text is kept", () => {
		const body = JSON.stringify({
			messages: [{ role: "user", content: "Authorization: Bearer abc.def.ghijklmnop and AKIAIOSFODNN7EXAMPLE" }],
			api_key: "plain-looking-value",
			password: 'has "quotes" inside',
			note: "sk-learn is a library",
		});
		const out = redact(body);
		expect(out).toContain(`Bearer ${REDACTED}`);
		expect(out).not.toContain("AKIAIOSFODNN7EXAMPLE");
		expect(JSON.parse(out).api_key).toBe(REDACTED);
		expect(JSON.parse(out).password).toBe(REDACTED);
		expect(JSON.parse(out).note).toBe("sk-learn is a library");
	});

	test("configured patterns are masked too", () => {
		const custom = createRedactor(["\\b\\d{4}-\\d{4}-\\d{4}-\\d{4}\\b", "internal-[a-z]+"]);
		expect(custom("card 4111-1111-1111-1111 host internal-db")).toBe(`card ${REDACTED} host ${REDACTED}`);
	});
});
