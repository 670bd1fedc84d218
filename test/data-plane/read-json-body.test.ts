import { describe, expect, test } from "bun:test";
import { readJsonBody } from "../../src/data-plane/read-json-body.ts";
import { GatewayError } from "../../src/errors/gateway-error.ts";

const post = (body: BodyInit | null, headers: Record<string, string> = {}) =>
	new Request("http://gateway.test/v1/chat/completions", {
		method: "POST",
		body,
		headers,
	});

async function rejection(p: Promise<unknown>): Promise<GatewayError> {
	try {
		await p;
	} catch (e) {
		expect(e).toBeInstanceOf(GatewayError);
		return e as GatewayError;
	}
	throw new Error("expected a GatewayError");
}

describe("readJsonBody", () => {
	test("a JSON object: parsed value and the raw text", async () => {
		const raw = '{"model":"gpt-4o",  "messages":[{"role":"user","content":"héllo"}]}';
		const body = await readJsonBody(post(raw), 1024);
		expect(body.raw).toBe(raw);
		expect(body.value).toEqual({
			model: "gpt-4o",
			messages: [{ role: "user", content: "héllo" }],
		});
	});

	test("exactly at the limit is accepted", async () => {
		const raw = JSON.stringify({ p: "x".repeat(100) });
		const body = await readJsonBody(post(raw), Buffer.byteLength(raw));
		expect(body.raw).toBe(raw);
	});

	test("413 when content-length declares more than the limit (the body is not read)", async () => {
		let pulled = false;
		const stream = new ReadableStream<Uint8Array>(
			{
				pull(c) {
					pulled = true;
					c.enqueue(new TextEncoder().encode("{}"));
					c.close();
				},
			},
			{ highWaterMark: 0 },
		);
		const req = new Request("http://gateway.test/", {
			method: "POST",
			body: stream,
			headers: { "content-length": "5000" },
		});
		const e = await rejection(readJsonBody(req, 1000));
		expect(e.code).toBe("PLATFORM_PAYLOAD_TOO_LARGE");
		expect(e.status).toBe(413);
		expect(e.message).toContain("1000");
		expect(pulled).toBe(false);
	});

	test("413 by actual size when no (or a false) content-length is given", async () => {
		const big = JSON.stringify({ p: "x".repeat(2000) });
		const chunked = new ReadableStream<Uint8Array>({
			start(c) {
				c.enqueue(new TextEncoder().encode(big));
				c.close();
			},
		});
		const e = await rejection(
			readJsonBody(new Request("http://gateway.test/", { method: "POST", body: chunked }), 1000),
		);
		expect(e.code).toBe("PLATFORM_PAYLOAD_TOO_LARGE");
		expect(e.status).toBe(413);
	});

	test("an undeclared (chunked) body is cut off at the limit without reading the rest", async () => {
		let pulls = 0;
		const endless = new ReadableStream<Uint8Array>({
			pull(c) {
				pulls++;
				c.enqueue(new Uint8Array(400).fill(32));
			},
		});
		const e = await rejection(
			readJsonBody(new Request("http://gateway.test/", { method: "POST", body: endless }), 1000),
		);
		expect(e.code).toBe("PLATFORM_PAYLOAD_TOO_LARGE");
		// three 400-byte chunks pass the 1000-byte limit; an unbounded read would never end
		expect(pulls).toBeLessThan(10);
	});

	test("413 counts bytes, not characters", async () => {
		const raw = JSON.stringify({ p: "é".repeat(400) }); // ~800 bytes, ~410 chars
		expect(raw.length).toBeLessThan(500);
		const e = await rejection(readJsonBody(post(raw), 500));
		expect(e.code).toBe("PLATFORM_PAYLOAD_TOO_LARGE");
	});

	test("400 for invalid JSON", async () => {
		const e = await rejection(readJsonBody(post('{"model": '), 1024));
		expect(e.code).toBe("PLATFORM_INVALID_JSON");
		expect(e.status).toBe(400);
	});

	test("400 for JSON that is not an object", async () => {
		for (const raw of ["[1,2]", "null", '"str"', "42", "true"]) {
			const e = await rejection(readJsonBody(post(raw), 1024));
			expect(e.code).toBe("PLATFORM_INVALID_JSON");
			expect(e.status).toBe(400);
			expect(e.message).toContain("JSON object");
		}
	});

	test("400 for an empty body", async () => {
		for (const req of [post(""), post(null), new Request("http://gateway.test/", { method: "POST" })]) {
			const e = await rejection(readJsonBody(req, 1024));
			expect(e.code).toBe("PLATFORM_INVALID_JSON");
			expect(e.status).toBe(400);
		}
	});
});
