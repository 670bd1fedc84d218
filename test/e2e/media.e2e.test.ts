import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI, { toFile } from "openai";
import type { LogRow } from "../../src/admin/usage-queries.ts";
import { type GatewayServer, startGatewayServer } from "../support/gateway-server.ts";
import {
	IMAGE_OUTPUT_TOKENS,
	type MockUpstream,
	speechBytes,
	startMockUpstream,
	type UploadedFile,
} from "../support/mock-upstream.ts";
import { waitFor } from "../support/wait-for.ts";

/**
 * Images, audio and moderations through the real server with the official openai client:
 * JSON and multipart bodies pass through to an OpenAI-type upstream, speech comes back as
 * the upstream's bytes, usage is recorded where the upstream reports it, one row per request.
 */

const KEY = "sk-client-media";
const ADMIN = "admin-token-media-0123456789";
const MAX_BODY = 256 * 1024;

let mock: MockUpstream;
let gw: GatewayServer;
let client: OpenAI;

/** A 16-bit mono PCM WAV of `samples` samples of a square wave. */
function wav(samples: number): Uint8Array<ArrayBuffer> {
	const data = Buffer.alloc(samples * 2);
	for (let i = 0; i < samples; i++) data.writeInt16LE(i % 40 < 20 ? 8000 : -8000, i * 2);
	const header = Buffer.alloc(44);
	header.write("RIFF", 0);
	header.writeUInt32LE(36 + data.length, 4);
	header.write("WAVEfmt ", 8);
	header.writeUInt32LE(16, 16);
	header.writeUInt16LE(1, 20); // PCM
	header.writeUInt16LE(1, 22); // mono
	header.writeUInt32LE(16_000, 24);
	header.writeUInt32LE(32_000, 28);
	header.writeUInt16LE(2, 32);
	header.writeUInt16LE(16, 34);
	header.write("data", 36);
	header.writeUInt32LE(data.length, 40);
	return new Uint8Array(Buffer.concat([header, data]));
}

const sha256 = (b: Uint8Array) => new Bun.CryptoHasher("sha256").update(b).digest("hex");

/** The one usage row of the request the client tagged with `x-request-id: id`. */
async function rowOf(id: string): Promise<LogRow> {
	let rows: LogRow[] = [];
	await waitFor(
		async () => {
			const page = (await fetch(`${gw.url}/admin/logs?limit=200`, { headers: { "x-admin-token": ADMIN } }).then((r) =>
				r.json(),
			)) as { data: LogRow[] };
			rows = page.data.filter((r) => r.client_request_id === id);
			return rows.length > 0;
		},
		{ what: `the usage row of ${id}` },
	);
	expect(rows.length).toBe(1);
	return rows[0];
}

const tagged = (id: string) => ({ headers: { "x-request-id": id } });

/** SHA-256 of the file part `name` of the last request the mock received. */
const uploadedHash = (name: string) => (mock.requests.at(-1)?.body?.[name] as UploadedFile | undefined)?.sha256;

beforeAll(async () => {
	mock = await startMockUpstream();
	const dir = mkdtempSync(join(tmpdir(), "ix-media-"));
	const config = join(dir, "gateway.toml");
	writeFileSync(
		config,
		`
[server]
max_body_bytes = ${MAX_BODY}

[auth]
static_keys = ["${KEY}"]

[[providers]]
name = "openai"
type = "openai"
base_url = "${mock.url}/v1"
models = ["gpt-image-1", "dall-e-2", "tts-1", "gpt-4o-transcribe", "whisper-1", "omni-moderation-latest"]
api_key = "sk-upstream-media"

[[providers]]
name = "claude"
type = "anthropic"
base_url = "${mock.url}/v1"
models = ["claude-3-5-haiku-latest"]
api_key = "sk-ant-media"

[[aliases]]
from = "transcriber"
to = "openai/gpt-4o-transcribe"
`,
	);
	gw = await startGatewayServer({ env: { GATEWAY_CONFIG: config, GATEWAY_ADMIN_TOKEN: ADMIN } });
	client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY, maxRetries: 0 });
}, 60_000);

afterAll(async () => {
	await gw?.cleanup();
	await mock?.stop();
});

describe("the rest of the OpenAI surface through the gateway", () => {
	test("images.generate: the answer as the upstream sent it, its usage in the row", async () => {
		const r = await client.images.generate({ model: "gpt-image-1", prompt: "a red lighthouse" }, tagged("img-gen"));
		expect(r.data?.[0].b64_json?.length).toBeGreaterThan(10);
		expect(mock.requests.at(-1)?.path).toBe("/v1/images/generations");
		expect(mock.requests.at(-1)?.apiKey).toBe("sk-upstream-media");
		const row = await rowOf("img-gen");
		expect(row.endpoint).toBe("/v1/images/generations");
		expect(row.status).toBe(200);
		expect(row.model).toBe("gpt-image-1");
		expect(row.prompt_tokens).toBe(r.usage?.input_tokens ?? -1);
		expect(row.completion_tokens).toBe(IMAGE_OUTPUT_TOKENS);
	});

	test("audio.speech.create: the audio bytes unchanged, with the upstream's content type", async () => {
		const input = "the quick brown fox jumps over the lazy dog";
		const res = await client.audio.speech.create({ model: "tts-1", voice: "alloy", input }, tagged("speech"));
		expect(res.headers.get("content-type")).toBe("audio/mpeg");
		const bytes = new Uint8Array(await res.arrayBuffer());
		const expected = speechBytes(input, "mp3");
		expect(bytes.byteLength).toBe(expected.byteLength);
		expect(sha256(bytes)).toBe(sha256(expected));
		const row = await rowOf("speech");
		expect(row.endpoint).toBe("/v1/audio/speech");
		expect(row.status).toBe(200);
		expect(row.incomplete).toBe(false);
		expect(row.ttft_ms).not.toBeNull();
	});

	test("audio.transcriptions.create: the upload's bytes and boundary reach the upstream untouched", async () => {
		const audio = wav(4000);
		const r = await client.audio.transcriptions.create(
			{ model: "gpt-4o-transcribe", file: await toFile(audio, "hello.wav", { type: "audio/wav" }) },
			tagged("transcribe"),
		);
		expect(r.text).toBe(`transcript of hello.wav (${audio.length} bytes)`);
		const seen = mock.requests.at(-1);
		expect(seen?.path).toBe("/v1/audio/transcriptions");
		expect(seen?.formContentType).toMatch(/^multipart\/form-data; boundary=/);
		expect(uploadedHash("file")).toBe(sha256(audio));
		expect(seen?.body?.model).toBe("gpt-4o-transcribe");
		const row = await rowOf("transcribe");
		expect(row.endpoint).toBe("/v1/audio/transcriptions");
		expect(row.model).toBe("gpt-4o-transcribe");
		expect(row.total_tokens).toBeGreaterThan(0);
		expect(row.prompt_tokens).toBe(r.usage?.type === "tokens" ? r.usage.input_tokens : -1);
	});

	test("an alias in a multipart form: only the model field changes, the file stays byte for byte", async () => {
		const audio = wav(1500);
		const r = await client.audio.transcriptions.create({
			model: "transcriber",
			file: await toFile(audio, "alias.wav", { type: "audio/wav" }),
			response_format: "text",
		});
		expect(String(r)).toBe(`transcript of alias.wav (${audio.length} bytes)`);
		const seen = mock.requests.at(-1);
		expect(seen?.body?.model).toBe("gpt-4o-transcribe");
		expect(uploadedHash("file")).toBe(sha256(audio));
	});

	test("a hand-made form: the Content-Type with its boundary and every byte reach the upstream as sent", async () => {
		const boundary = "ix-Boundary_0123";
		const audio = wav(300);
		const body = Buffer.concat([
			Buffer.from(
				`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="raw.wav"\r\nContent-Type: audio/wav\r\n\r\n`,
			),
			audio,
			Buffer.from(
				`\r\n--${boundary}\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper-1\r\n--${boundary}--\r\n`,
			),
		]);
		const contentType = `multipart/form-data; boundary=${boundary}`;
		const res = await fetch(`${gw.url}/api/v1/audio/transcriptions`, {
			method: "POST",
			headers: { authorization: `Bearer ${KEY}`, "content-type": contentType },
			body,
		});
		expect(res.status).toBe(200);
		const seen = mock.requests.at(-1);
		expect(seen?.formContentType).toBe(contentType);
		expect(seen?.headers["content-length"]).toBe(String(body.length));
		expect(uploadedHash("file")).toBe(sha256(audio));
	});

	test("audio.translations.create and images.edit (multipart)", async () => {
		const t = await client.audio.translations.create({
			model: "whisper-1",
			file: await toFile(wav(800), "bonjour.wav", { type: "audio/wav" }),
		});
		expect(t.text).toContain("bonjour.wav");
		expect(mock.requests.at(-1)?.path).toBe("/v1/audio/translations");
		const png = Buffer.from(
			"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=",
			"base64",
		);
		const e = await client.images.edit(
			{ model: "dall-e-2", prompt: "add a moon", image: await toFile(png, "in.png", { type: "image/png" }) },
			tagged("img-edit"),
		);
		expect(e.data?.length).toBe(1);
		expect(uploadedHash("image")).toBe(sha256(png));
		const row = await rowOf("img-edit");
		expect(row.endpoint).toBe("/v1/images/edits");
		expect(row.total_tokens).toBe(0); // dall-e-2 reports no usage
	});

	test("moderations.create, also under /api/v1", async () => {
		const m = await client.moderations.create(
			{ model: "omni-moderation-latest", input: ["a sunny day", "graphic violence"] },
			tagged("moderation"),
		);
		expect(m.results.map((x) => x.flagged)).toEqual([false, true]);
		const row = await rowOf("moderation");
		expect(row.endpoint).toBe("/v1/moderations");
		expect(row.status).toBe(200);
		const viaApi = await fetch(`${gw.url}/api/v1/moderations`, {
			method: "POST",
			headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
			body: JSON.stringify({ model: "omni-moderation-latest", input: "hello" }),
		});
		expect(viaApi.status).toBe(200);
	});

	test("a streamed image generation is relayed as events, usage from its completed event", async () => {
		const res = await fetch(`${gw.url}/v1/images/generations`, {
			method: "POST",
			headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json", "x-request-id": "img-stream" },
			body: JSON.stringify({ model: "gpt-image-1", prompt: "a boat", stream: true }),
		});
		expect(res.headers.get("content-type")).toContain("text/event-stream");
		const text = await res.text();
		expect(text).toContain("event: image_generation.partial_image");
		expect(text).toContain("event: image_generation.completed");
		expect(text).not.toContain("UPSTREAM_STREAM_BROKEN");
		const row = await rowOf("img-stream");
		expect(row.stream).toBe(true);
		expect(row.incomplete).toBe(false);
		expect(row.completion_tokens).toBe(IMAGE_OUTPUT_TOKENS);
	});

	test("clear errors: an Anthropic-type model, a body that is not an upload, no model, too large, no key", async () => {
		const post = (path: string, body: BodyInit, headers: Record<string, string> = {}) =>
			fetch(`${gw.url}${path}`, { method: "POST", headers: { authorization: `Bearer ${KEY}`, ...headers }, body });
		const claude = await post(
			"/v1/images/generations",
			JSON.stringify({ model: "claude-3-5-haiku-latest", prompt: "x" }),
			{ "content-type": "application/json" },
		);
		expect(claude.status).toBe(400);
		const claudeErr = (await claude.json()) as { error: { code: string; message: string } };
		expect(claudeErr.error.code).toBe("PLATFORM_INVALID_REQUEST");
		expect(claudeErr.error.message).toContain("does not support this endpoint");

		const notForm = await post("/v1/audio/transcriptions", JSON.stringify({ model: "whisper-1" }), {
			"content-type": "application/json",
		});
		expect(notForm.status).toBe(400);
		expect(((await notForm.json()) as { error: { message: string } }).error.message).toContain("multipart/form-data");

		const noModel = new FormData();
		noModel.append("file", new Blob([wav(10)], { type: "audio/wav" }), "x.wav");
		const missing = await post("/v1/audio/transcriptions", noModel);
		expect(missing.status).toBe(400);
		expect(((await missing.json()) as { error: { param: string } }).error.param).toBe("model");

		const big = new FormData();
		big.append("model", "whisper-1");
		big.append("file", new Blob([new Uint8Array(MAX_BODY + 1)], { type: "audio/wav" }), "big.wav");
		const tooLarge = await post("/v1/audio/transcriptions", big);
		expect(tooLarge.status).toBe(413);
		expect(((await tooLarge.json()) as { error: { code: string } }).error.code).toBe("PLATFORM_PAYLOAD_TOO_LARGE");

		const anonymous = await fetch(`${gw.url}/v1/moderations`, { method: "POST", body: "{}" });
		expect(anonymous.status).toBe(401);
	});
});
