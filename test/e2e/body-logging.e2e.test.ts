import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { type GatewayServer, startGatewayServer } from "../support/gateway-server.ts";
import { type MockUpstream, startMockUpstream } from "../support/mock-upstream.ts";
import { waitFor } from "../support/wait-for.ts";

const ADMIN = "e2e-admin-token-bodies-0123456789";
const SECRET = "sk-proj-abcdefghijklmnop1234567890";
let mock: MockUpstream;
let gw: GatewayServer;

beforeAll(async () => {
	mock = await startMockUpstream();
	gw = await startGatewayServer({
		workers: 2,
		env: {
			OPENAI_BASE_URL: `${mock.url}/v1`,
			OPENAI_API_KEY: "sk-config-upstream",
			OPENAI_MODELS: "gpt-4o-mini",
			GATEWAY_ADMIN_TOKEN: ADMIN,
			GATEWAY_ENCRYPTION_KEY: "c".repeat(64),
			LOG_LEVEL: "warn",
		},
	});
}, 60_000);

afterAll(async () => {
	await gw?.cleanup();
	await mock?.stop();
}, 30_000);

async function admin<T = Record<string, unknown>>(method: string, path: string, body?: unknown) {
	const res = await fetch(`${gw.url}/admin${path}`, {
		method,
		headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	return { status: res.status, json: (await res.json()) as T };
}

interface Detail {
	request_id: string;
	key_id: string;
	status: number;
	request_body: string | null;
	response_body: string | null;
	response_stream: boolean;
}

/** The log detail once the usage row (and, with `bodies`, the bodies) have landed. */
async function detailOf(requestId: string, bodies: boolean): Promise<Detail> {
	let found: Detail | null = null;
	await waitFor(
		async () => {
			const r = await admin<Detail>("GET", `/logs/${requestId}`);
			if (r.status !== 200 || (bodies && r.json.response_body === null)) return false;
			found = r.json;
			return true;
		},
		{ what: `the log detail of ${requestId}`, timeoutMs: 20_000 },
	);
	return found as unknown as Detail;
}

const metric = async (name: string): Promise<number> => {
	const text = await (await fetch(`${gw.url}/metrics`)).text();
	const line = text.split("\n").find((l) => l.startsWith(`${name} `));
	return line ? Number(line.split(" ")[1]) : 0;
};

describe("opt-in body logging", () => {
	test("a key with log_bodies=all has its bodies stored redacted, its stream reassembled; another key's are not stored", async () => {
		const logged = await admin<{ id: string; key: string; log_bodies: string }>("POST", "/keys", {
			tenant_id: "bodies",
			log_bodies: "all",
		});
		expect(logged.status).toBe(201);
		expect(logged.json.log_bodies).toBe("all");
		const plain = await admin<{ id: string; key: string; log_bodies: string | null }>("POST", "/keys", {
			tenant_id: "bodies",
		});
		expect(plain.json.log_bodies).toBeNull();

		const client = (key: string) => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key, maxRetries: 0 });
		const prompt = `please remember my key ${SECRET} for later`;
		const messages = [{ role: "user" as const, content: prompt }];

		const other = await client(plain.json.key)
			.chat.completions.create({ model: "gpt-4o-mini", messages })
			.withResponse();
		const plainId = other.response.headers.get("x-request-id") as string;

		const whole = await client(logged.json.key)
			.chat.completions.create({ model: "gpt-4o-mini", messages })
			.withResponse();
		const wholeId = whole.response.headers.get("x-request-id") as string;

		const stream = await client(logged.json.key)
			.chat.completions.create({ model: "gpt-4o-mini", messages, stream: true })
			.withResponse();
		const streamId = stream.response.headers.get("x-request-id") as string;
		let streamed = "";
		for await (const chunk of stream.data) streamed += chunk.choices[0]?.delta?.content ?? "";
		expect(streamed).toContain("echo:");

		const a = await detailOf(wholeId, true);
		expect(a.key_id).toBe(logged.json.id);
		expect(a.request_body).toContain("[REDACTED]");
		expect(a.request_body).not.toContain(SECRET);
		expect(JSON.parse(a.request_body as string).model).toBe("gpt-4o-mini");
		// the mock echoes the prompt: the answer's copy of the key is masked too
		expect(a.response_body).not.toContain(SECRET);
		expect(JSON.parse(a.response_body as string).choices[0].message.content).toContain("[REDACTED]");
		expect(a.response_stream).toBe(false);

		const s = await detailOf(streamId, true);
		expect(s.response_stream).toBe(true);
		const reassembled = JSON.parse(s.response_body as string) as { text: string };
		expect(reassembled.text).toBe(streamed.replace(SECRET, "[REDACTED]"));
		expect(s.response_body).not.toContain(SECRET);

		const b = await detailOf(plainId, false);
		expect(b.key_id).toBe(plain.json.id);
		expect(b.request_body).toBeNull();
		expect(b.response_body).toBeNull();
		// exactly the two requests of the logging key were stored
		await waitFor(async () => (await metric("interchange_body_log_rows_written_total")) === 2, {
			what: "2 stored bodies",
		});
	}, 30_000);

	test("an unknown log_bodies value is refused with a clear 400", async () => {
		const r = await admin<{ error: { code: string; param: string | null; message: string } }>("POST", "/keys", {
			tenant_id: "bodies",
			log_bodies: "everything",
		});
		expect(r.status).toBe(400);
		expect(r.json.error.code).toBe("PLATFORM_INVALID_REQUEST");
		expect(r.json.error.message).toContain("log_bodies");
	});
});
