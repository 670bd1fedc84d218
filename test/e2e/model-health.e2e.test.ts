import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { type GatewayServer, startGatewayServer } from "../support/gateway-server.ts";
import { type MockUpstream, startMockUpstream } from "../support/mock-upstream.ts";
import { waitFor } from "../support/wait-for.ts";

/**
 * One account from the env quick start, one model failing upstream: the other model never
 * notices, the failing one comes back as soon as the upstream does (never dark), and SDK
 * streams on the healthy model run and cancel as usual.
 */

const KEY = "sk-model-health-client";

let mock: MockUpstream;
let gw: GatewayServer;
let client: OpenAI;

beforeAll(async () => {
	mock = await startMockUpstream();
	gw = await startGatewayServer({
		workers: 2,
		env: {
			OPENAI_BASE_URL: `${mock.url}/v1`,
			// drip: each stream event 20 ms apart, so a stream can be aborted in the middle
			OPENAI_API_KEY: "k-only-account-drip20",
			OPENAI_MODELS: "x,y",
			GATEWAY_API_KEYS: KEY,
		},
	});
	client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY, maxRetries: 0 });
}, 60_000);
afterAll(async () => {
	await gw?.cleanup();
	await mock?.stop();
});

const metrics = () => fetch(`${gw.url}/metrics`).then((r) => r.text());

async function streamText(model: string, content: string): Promise<string> {
	const s = await client.chat.completions.create({ model, stream: true, messages: [{ role: "user", content }] });
	let text = "";
	for await (const c of s) text += c.choices[0]?.delta?.content ?? "";
	return text;
}

describe("one account, model x failing upstream", () => {
	test("y never fails, x recovers within its ejection, streams on y run and an abort cancels the upstream", async () => {
		mock.failModel("x", 503);
		let xFailures = 0;
		const hitX = async () => {
			for (let i = 0; i < 6; i++) {
				const e = await client.chat.completions
					.create({ model: "x", messages: [{ role: "user", content: `x ${i}` }] })
					.catch((err) => err);
				if (e instanceof OpenAI.APIError) {
					// the upstream's own failure, not a gateway refusal
					expect(e.code).toBe("UPSTREAM_SERVER_ERROR");
					xFailures++;
				}
			}
		};
		let yOk = 0;
		const hitY = async (n: number) => {
			for (let i = 0; i < 10; i++) {
				const r = await client.chat.completions.create({
					model: "y",
					messages: [{ role: "user", content: `y ${n} ${i}` }],
				});
				if (r.choices[0].message.content?.includes(`y ${n} ${i}`)) yOk++;
			}
		};
		const streams = [0, 1, 2].map((n) => streamText("y", `stream ${n}`));
		await Promise.all([hitX(), hitY(0), hitY(1)]);
		const texts = await Promise.all(streams);
		expect(xFailures).toBe(6);
		expect(yOk).toBe(20);
		for (const [n, t] of texts.entries()) expect(t).toContain(`stream ${n}`);

		// x's lane is ejected, the account itself is healthy
		const during = await metrics();
		expect(during).toContain(
			'interchange_account_model_state{provider="openai",account="default",model="x",state="ejected"} 1',
		);
		expect(during).toContain('interchange_account_state{provider="openai",account="default",state="healthy"} 1');

		// the upstream recovers: x is served at once, while its ejection still runs
		mock.failModel("x", null);
		const r = await client.chat.completions.create({ model: "x", messages: [{ role: "user", content: "back" }] });
		expect(r.choices[0].message.content).toContain("back");
		expect(await metrics()).toContain('model="x",state="ejected"} 1');

		// an SDK stream on y, aborted in the middle, cancels the upstream request
		const cancelledBefore = mock.cancelledStreams;
		const controller = new AbortController();
		const s = await client.chat.completions.create(
			{ model: "y", stream: true, max_tokens: 200, messages: [{ role: "user", content: "long one" }] },
			{ signal: controller.signal },
		);
		let chunks = 0;
		// the SDK ends the iteration (or throws) once aborted; either way the read stops early
		await (async () => {
			for await (const _ of s) {
				if (++chunks === 2) controller.abort();
			}
		})().catch(() => {});
		expect(chunks).toBe(2);
		await waitFor(() => mock.cancelledStreams > cancelledBefore, {
			timeoutMs: 5_000,
			what: "upstream stream cancelled",
		});
	}, 60_000);
});
