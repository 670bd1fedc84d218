import { describe, expect, test } from "bun:test";
import { validateRequest } from "../../src/data-plane/request-schemas.ts";
import { GatewayError } from "../../src/errors/gateway-error.ts";
import type { Operation } from "../../src/protocols/operations.ts";

function invalid(op: Operation, body: unknown): GatewayError {
	try {
		validateRequest(op, body);
	} catch (e) {
		expect(e).toBeInstanceOf(GatewayError);
		const g = e as GatewayError;
		expect(g.code).toBe("PLATFORM_INVALID_REQUEST");
		expect(g.status).toBe(400);
		return g;
	}
	throw new Error(`expected ${op} to reject ${JSON.stringify(body)}`);
}

const msgs = [{ role: "user", content: "hi" }];

const VALID: Record<Operation, Record<string, unknown>> = {
	chat: { model: "gpt-4o", messages: msgs },
	completions: { model: "m", prompt: "once upon" },
	embeddings: { model: "e", input: ["a", "b"] },
	responses: { model: "m", input: "hi" },
	messages: { model: "claude", max_tokens: 100, messages: msgs },
	count_tokens: { model: "claude", messages: msgs },
	images_generations: { model: "gpt-image-1", prompt: "a lighthouse" },
	images_edits: { model: "gpt-image-1" },
	images_variations: { model: "dall-e-2" },
	audio_speech: { model: "tts-1", input: "hello", voice: "alloy" },
	audio_transcriptions: { model: "whisper-1", stream: false },
	audio_translations: { model: "whisper-1" },
	moderations: { model: "omni-moderation-latest", input: ["a", "b"] },
};

describe("validateRequest", () => {
	test("a minimal valid body of each operation passes and comes back as is", () => {
		for (const [op, body] of Object.entries(VALID) as [Operation, Record<string, unknown>][]) {
			expect(validateRequest(op, body) as unknown).toBe(body);
		}
	});

	test("fields the gateway does not read pass untouched", () => {
		const body = {
			...VALID.chat,
			temperature: 7,
			tools: "anything",
			vendor_flag: { x: 1 },
		};
		expect(validateRequest("chat", body) as unknown).toBe(body);
	});

	test("model is required everywhere, named in message and param", () => {
		for (const op of Object.keys(VALID) as Operation[]) {
			const { model: _m, ...rest } = VALID[op];
			const e = invalid(op, rest);
			expect(e.param).toBe("model");
			expect(e.message).toContain("'model'");
		}
	});

	test("model must be a non-empty string", () => {
		expect(invalid("chat", { ...VALID.chat, model: "" }).param).toBe("model");
		expect(invalid("chat", { ...VALID.chat, model: 4 }).param).toBe("model");
		expect(invalid("chat", { ...VALID.chat, model: "x".repeat(257) }).param).toBe("model");
	});

	test("each operation's own required fields", () => {
		const cases: [Operation, string][] = [
			["chat", "messages"],
			["completions", "prompt"],
			["embeddings", "input"],
			["messages", "max_tokens"],
			["messages", "messages"],
			["count_tokens", "messages"],
		];
		for (const [op, field] of cases) {
			const body = { ...VALID[op] };
			delete body[field];
			const e = invalid(op, body);
			expect(e.param).toBe(field);
			expect(e.message).toContain(`'${field}'`);
		}
	});

	test("chat: messages must be a non-empty list of objects with a role", () => {
		expect(invalid("chat", { ...VALID.chat, messages: [] }).param).toBe("messages");
		expect(invalid("chat", { ...VALID.chat, messages: "hi" }).param).toBe("messages");
		const noRole = invalid("chat", {
			...VALID.chat,
			messages: [{ role: "user" }, { content: "x" }],
		});
		expect(noRole.param).toBe("messages.1.role");
		expect(noRole.message).toContain("'messages.1.role'");
	});

	test("fields the gateway reads are type-checked", () => {
		expect(invalid("chat", { ...VALID.chat, stream: "yes" }).param).toBe("stream");
		// a union reports at its own path
		expect(invalid("chat", { ...VALID.chat, stream_options: { include_usage: 1 } }).param).toBe("stream_options");
		expect(invalid("chat", { ...VALID.chat, max_tokens: 0 }).param).toBe("max_tokens");
		expect(invalid("chat", { ...VALID.chat, max_completion_tokens: 1.5 }).param).toBe("max_completion_tokens");
		expect(invalid("chat", { ...VALID.chat, user: 5 }).param).toBe("user");
		expect(invalid("messages", { ...VALID.messages, max_tokens: 0 }).param).toBe("max_tokens");
		expect(invalid("completions", { ...VALID.completions, prompt: [] }).param).toBe("prompt");
		expect(invalid("embeddings", { ...VALID.embeddings, input: 3 }).param).toBe("input");
		expect(invalid("responses", { ...VALID.responses, stream: 1 }).param).toBe("stream");
	});

	test("nullable fields accept null", () => {
		expect(() =>
			validateRequest("chat", {
				...VALID.chat,
				stream_options: null,
				max_tokens: null,
				stream: true,
			}),
		).not.toThrow();
	});

	test("a body that is not an object", () => {
		const e = invalid("chat", null);
		expect(e.message.length).toBeGreaterThan(0);
		invalid("chat", [VALID.chat]);
	});
});
