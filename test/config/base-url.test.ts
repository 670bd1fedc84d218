import { describe, expect, test } from "bun:test";
import { normaliseBaseUrl } from "../../src/config/base-url.ts";
import { PROVIDER_PRESETS } from "../../src/config/presets.ts";

describe("normaliseBaseUrl", () => {
	test("a URL without a path gets its preset's version path", () => {
		expect(normaliseBaseUrl("https://api.openai.com", PROVIDER_PRESETS.openai)).toBe("https://api.openai.com/v1");
		expect(normaliseBaseUrl("https://api.openai.com/", PROVIDER_PRESETS.openai)).toBe("https://api.openai.com/v1");
		expect(normaliseBaseUrl("https://dashscope.aliyuncs.com", PROVIDER_PRESETS.dashscope)).toBe(
			"https://dashscope.aliyuncs.com/compatible-mode/v1",
		);
		expect(normaliseBaseUrl("https://api.anthropic.com", PROVIDER_PRESETS.anthropic)).toBe(
			"https://api.anthropic.com/v1",
		);
		expect(normaliseBaseUrl("http://127.0.0.1:9000", PROVIDER_PRESETS.custom)).toBe("http://127.0.0.1:9000/v1");
	});

	test("a URL with a path is taken as given; Azure's resource URL stays bare", () => {
		expect(normaliseBaseUrl("https://proxy.example/openai/", PROVIDER_PRESETS.openai)).toBe(
			"https://proxy.example/openai",
		);
		expect(normaliseBaseUrl("https://api.openai.com/v1", PROVIDER_PRESETS.openai)).toBe("https://api.openai.com/v1");
		expect(normaliseBaseUrl("https://r.openai.azure.com", PROVIDER_PRESETS["azure-openai"])).toBe(
			"https://r.openai.azure.com",
		);
	});
});
