import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import type { GatewayConfig, ProviderConfig } from "../../src/config/types.ts";
import { GatewayError } from "../../src/errors/gateway-error.ts";
import { buildOpenAIRequest } from "../../src/protocols/openai/request.ts";
import { buildProviderSet, type ProviderRuntime } from "../../src/providers/provider-registry.ts";
import { UpstreamTargetGuard } from "../../src/providers/upstream-target-guard.ts";
import { AccountHealth } from "../../src/routing/account-health.ts";
import type { AccountSelector } from "../../src/routing/account-selector.ts";
import { AccountStateTable, accountKey } from "../../src/routing/account-state-table.ts";
import { callWithFailover, type FailoverRequest, upstreamErrorMessage } from "../../src/routing/failover.ts";
import { ModelLanes } from "../../src/routing/model-lanes.ts";
import { createPoolAccountSelector } from "../../src/routing/pool-account-selector.ts";
import { StickySessions } from "../../src/routing/sticky-sessions.ts";
import { freePort } from "../support/free-port.ts";
import { waitFor } from "../support/wait-for.ts";

/**
 * The upstream's behaviour is chosen by the account key in `authorization: Bearer <key>`:
 * sk-ok → 200, sk-503 → 503, sk-429 → 429 with retry-after 30, sk-401 → 401,
 * sk-429-huge → 429 with retry-after 7200, the model `down-model` → 503 whatever the key,
 * sk-400 → 400 with an OpenAI error body, sk-422 → 422, sk-503-stall → 503 headers and a body
 * that never ends, sk-slow → headers only once the caller gives up (or after 5 s).
 */
const calls = new Map<string, number>();
let server: ReturnType<typeof Bun.serve>;
let upstreamUrl: string;
let closedUrl: string;

beforeAll(async () => {
	server = Bun.serve({
		port: 0,
		hostname: "127.0.0.1",
		async fetch(req) {
			const key = (req.headers.get("authorization") ?? "").replace(/^Bearer /, "");
			calls.set(key, (calls.get(key) ?? 0) + 1);
			const body = (await req.json()) as { model: string };
			if (body.model === "down-model") return Response.json({ error: { message: "model down" } }, { status: 503 });
			switch (key) {
				case "sk-ok":
				case "sk-ok2":
					return Response.json({
						id: "chatcmpl-1",
						model: body.model,
						served_by: key,
					});
				case "sk-503":
					return Response.json({ error: { message: "busy" } }, { status: 503 });
				case "sk-429":
					return Response.json(
						{ error: { message: "slow down", type: "rate_limit_error" } },
						{ status: 429, headers: { "retry-after": "30" } },
					);
				case "sk-429-huge":
					return Response.json(
						{ error: { message: "come back in two hours", type: "rate_limit_error" } },
						{ status: 429, headers: { "retry-after": "7200" } },
					);
				case "sk-401":
					return Response.json({ error: { message: "bad key" } }, { status: 401 });
				case "sk-400":
					return Response.json(
						{
							error: {
								message: "messages[0].content is too long",
								type: "invalid_request_error",
							},
						},
						{ status: 400 },
					);
				case "sk-422":
					return new Response("unprocessable thing", { status: 422 });
				case "sk-503-stall":
					// error headers at once, then a body that never ends
					return new Response(
						new ReadableStream({
							start(c) {
								c.enqueue(new TextEncoder().encode('{"error":'));
							},
						}),
						{ status: 503, headers: { "content-type": "application/json" } },
					);
				case "sk-slow":
					await new Promise<void>((resolve) => {
						req.signal.addEventListener("abort", () => resolve(), {
							once: true,
						});
						setTimeout(resolve, 5_000).unref();
					});
					return Response.json({ late: true });
				default:
					return new Response("unknown key", { status: 500 });
			}
		},
	});
	upstreamUrl = `http://127.0.0.1:${server.port}/v1`;
	closedUrl = `http://127.0.0.1:${await freePort()}/v1`;
});

afterAll(() => {
	server.stop(true);
});

beforeEach(() => calls.clear());

const ROUTING: GatewayConfig["routing"] = {
	strategy: "first_available",
	max_account_switches: 3,
	first_byte_timeout_ms: 2_000,
	request_timeout_ms: 10_000,
	max_retry_after_ms: 60_000,
	max_upstream_body_bytes: 32 * 1024 * 1024,
	stream_idle_timeout_ms: 120_000,
};
const MODEL = "gpt-4o";

interface Setup {
	table: AccountStateTable;
	provider: ProviderRuntime;
	selector: AccountSelector;
	slot: (name: string) => number;
	/** The (account, model) lane's slot in the lane table, -1 when it has none. */
	lane: (name: string, model?: string) => number;
	lanes: ModelLanes;
	/** One target: provider `up` with MODEL, or `model` (the body is rewritten to it). */
	call: (over?: Partial<FailoverRequest> & { model?: string }) => ReturnType<typeof callWithFailover>;
}

/** One provider whose accounts are [name, key, baseUrl?] in priority order, over a fresh table. */
function setup(accounts: [string, string, string?][], maxSwitches = 3): Setup {
	const table = AccountStateTable.create();
	const config: ProviderConfig = {
		name: "up",
		type: "openai",
		base_url: upstreamUrl,
		models: [MODEL],
		headers: {},
		accounts: accounts.map(([name, api_key, base_url]) => ({
			name,
			api_key,
			base_url,
			weight: 1,
			max_concurrency: 0,
		})),
	};
	const set = buildProviderSet([config], ROUTING, (p, a) => table.allocate(accountKey(p, a)));
	const provider = set.providers.get("up") as ProviderRuntime;
	const lanes = new ModelLanes(AccountStateTable.create(64), table);
	const selector = createPoolAccountSelector({
		health: new AccountHealth(table),
		lanes,
		sticky: new StickySessions(),
	});
	const body = { model: MODEL, messages: [{ role: "user", content: "hi" }] };
	const raw = JSON.stringify(body);
	return {
		table,
		provider,
		selector,
		slot: (name) => table.lookup(accountKey("up", name)),
		lanes,
		lane: (name, model = MODEL) => {
			const account = provider.accounts.find((a) => a.name === name);
			return account ? lanes.find(account, model) : -1;
		},
		call: ({ model = MODEL, ...over } = {}) =>
			callWithFailover({
				selector,
				targets: [{ provider, model }],
				maxSwitches,
				deadlineAt: performance.now() + 10_000,
				firstByteTimeoutMs: 2_000,
				// the upstream model differs from the body's for `model`: the body is rewritten
				plan: (target) => ({
					build: (account) => buildOpenAIRequest(target.provider, account, "chat", target.model, body, raw),
				}),
				...over,
			}),
	};
}

async function failure(p: Promise<unknown>): Promise<GatewayError> {
	try {
		await p;
	} catch (e) {
		expect(e).toBeInstanceOf(GatewayError);
		return e as GatewayError;
	}
	throw new Error("expected a GatewayError");
}

describe("callWithFailover", () => {
	test("first account healthy → one attempt, its response, slot freed by release()", async () => {
		const s = setup([
			["a", "sk-ok"],
			["b", "sk-ok2"],
		]);
		const r = await s.call();
		expect(r.attempts).toBe(1);
		expect(r.account.name).toBe("a");
		expect(r.response.status).toBe(200);
		expect(s.table.inflight(s.slot("a"))).toBe(1);
		expect(((await r.response.json()) as { served_by: string }).served_by).toBe("sk-ok");
		r.release();
		expect(s.table.inflight(s.slot("a"))).toBe(0);
		r.release(); // idempotent: never goes negative
		expect(s.table.inflight(s.slot("a"))).toBe(0);
		expect(calls.get("sk-ok")).toBe(1);
		expect(calls.get("sk-ok2")).toBeUndefined();
	});

	test("a provider with a target guard never connects to a refused address", async () => {
		const s = setup([["a", "sk-ok"]], 0);
		s.provider.targetGuard = new UpstreamTargetGuard({ allowlist: [] });
		const e = await failure(s.call());
		expect(e.code).toBe("UPSTREAM_CONNECTION_FAILED");
		expect(calls.get("sk-ok")).toBeUndefined();
		expect(s.table.inflight(s.slot("a"))).toBe(0);
		s.provider.targetGuard = new UpstreamTargetGuard({ allowlist: ["127.0.0.1"] });
		const r = await s.call();
		r.release();
		expect(calls.get("sk-ok")).toBe(1);
	});

	test("503 then healthy → two attempts; the 503 account got exactly one call", async () => {
		const s = setup([
			["bad", "sk-503"],
			["good", "sk-ok"],
		]);
		const r = await s.call();
		r.release();
		expect(r.attempts).toBe(2);
		expect(r.account.name).toBe("good");
		expect(calls.get("sk-503")).toBe(1);
		expect(calls.get("sk-ok")).toBe(1);
		expect(s.table.inflight(s.slot("bad"))).toBe(0);
		expect(s.table.inflight(s.slot("good"))).toBe(0);
	});

	test("429 with retry-after → next account; the 429 account cools and is skipped next time", async () => {
		const s = setup([
			["limited", "sk-429"],
			["good", "sk-ok"],
		]);
		const first = await s.call();
		first.release();
		expect(first.attempts).toBe(2);
		expect(first.account.name).toBe("good");
		expect(calls.get("sk-429")).toBe(1);
		// retry-after: 30 s → that model cools on that account for about that long
		expect(s.table.cooldownUntil(s.slot("limited"))).toBe(0);
		const until = s.lanes.table.cooldownUntil(s.lane("limited"));
		expect(until).toBeGreaterThan(Date.now() + 20_000);
		expect(until).toBeLessThanOrEqual(Date.now() + 31_000);

		const second = await s.call();
		second.release();
		expect(second.attempts).toBe(1);
		expect(second.account.name).toBe("good");
		expect(calls.get("sk-429")).toBe(1);
	});

	test("every account fails with 5xx → at most 1 + maxSwitches calls, a 5xx GatewayError with attempts", async () => {
		const s = setup(
			[
				["a", "sk-503"],
				["b", "sk-503"],
				["c", "sk-503"],
			],
			2,
		);
		const e = await failure(s.call());
		expect(calls.get("sk-503")).toBe(3);
		expect(e.code).toBe("UPSTREAM_SERVER_ERROR");
		expect(e.status).toBeGreaterThanOrEqual(500);
		expect([502, 503]).toContain(e.status);
		expect(e.attempts).toBe(3);
		for (const n of ["a", "b", "c"]) expect(s.table.inflight(s.slot(n))).toBe(0);
	});

	test("fewer accounts than switches: retries after a backoff, still bounded by 1 + maxSwitches", async () => {
		const s = setup(
			[
				["a", "sk-503"],
				["b", "sk-503"],
			],
			3,
		);
		const e = await failure(s.call());
		const n = calls.get("sk-503") ?? 0;
		expect(n).toBeGreaterThanOrEqual(2);
		expect(n).toBeLessThanOrEqual(4);
		expect(e.attempts).toBe(n);
		expect(e.status).toBeGreaterThanOrEqual(500);
	});

	test("every account rate limited → 429 with a retry hint", async () => {
		const s = setup([
			["a", "sk-429"],
			["b", "sk-429"],
		]);
		const e = await failure(s.call());
		expect(e.code).toBe("UPSTREAM_RATE_LIMITED");
		expect(e.status).toBe(429);
		expect(e.retryAfterSeconds).toBe(30);
		expect(calls.get("sk-429")).toBe(2);
		expect(e.attempts).toBe(2);
		// both cooling: a new request makes no upstream call and still answers 429
		const again = await failure(s.call());
		expect(again.status).toBe(429);
		expect(calls.get("sk-429")).toBe(2);
	});

	test("a client 400 from upstream → no failover, UPSTREAM_INVALID_REQUEST with the upstream's status and message", async () => {
		const s = setup([
			["a", "sk-400"],
			["b", "sk-ok"],
		]);
		const e = await failure(s.call());
		expect(e.code).toBe("UPSTREAM_INVALID_REQUEST");
		expect(e.status).toBe(400);
		expect(e.message).toBe("messages[0].content is too long");
		expect(e.attempts).toBe(1);
		expect(calls.get("sk-ok")).toBeUndefined();
		// the account is not blamed
		expect(s.table.disabledStatus(s.slot("a"))).toBe(0);
		expect(s.table.consecutiveFailures(s.slot("a"))).toBe(0);
		expect(s.table.inflight(s.slot("a"))).toBe(0);
	});

	test("other client 4xx keep their status; a non-JSON body is passed on as text", async () => {
		const s = setup([["a", "sk-422"]]);
		const e = await failure(s.call());
		expect(e.code).toBe("UPSTREAM_INVALID_REQUEST");
		expect(e.status).toBe(422);
		expect(e.message).toBe("unprocessable thing");
	});

	test("connection refused → failover", async () => {
		const s = setup([
			["down", "sk-ok", closedUrl],
			["up", "sk-ok2"],
		]);
		const r = await s.call();
		r.release();
		expect(r.attempts).toBe(2);
		expect(r.account.name).toBe("up");
		expect(s.table.inflight(s.slot("down"))).toBe(0);
	});

	test("connection refused everywhere → UPSTREAM_CONNECTION_FAILED (502)", async () => {
		const s = setup([["down", "sk-ok", closedUrl]], 0);
		const e = await failure(s.call());
		expect(e.code).toBe("UPSTREAM_CONNECTION_FAILED");
		expect(e.status).toBe(502);
		expect(e.attempts).toBe(1);
		// what fetch said survives as the cause, for the logs
		expect(e.cause).toBeInstanceOf(Error);
		expect(String((e.cause as Error).message || (e.cause as { code?: string }).code)).not.toBe("");
	});

	test("first-byte timeout → failover to the next account", async () => {
		const s = setup([
			["slow", "sk-slow"],
			["fast", "sk-ok"],
		]);
		const started = performance.now();
		const r = await s.call({ firstByteTimeoutMs: 150 });
		r.release();
		expect(r.attempts).toBe(2);
		expect(r.account.name).toBe("fast");
		expect(calls.get("sk-slow")).toBe(1);
		expect(performance.now() - started).toBeLessThan(3_000);
		expect(s.table.inflight(s.slot("slow"))).toBe(0);
	});

	test("first-byte timeout on the only account → UPSTREAM_TIMEOUT (504)", async () => {
		const s = setup([["slow", "sk-slow"]], 0);
		const e = await failure(s.call({ firstByteTimeoutMs: 100 }));
		expect(e.code).toBe("UPSTREAM_TIMEOUT");
		expect(e.status).toBe(504);
		expect(e.attempts).toBe(1);
	});

	test("an error response whose body stalls does not hold the request past its timeouts", async () => {
		const s = setup([
			["stall", "sk-503-stall"],
			["good", "sk-ok"],
		]);
		const started = performance.now();
		const r = await s.call({
			firstByteTimeoutMs: 200,
			deadlineAt: performance.now() + 3_000,
		});
		r.release();
		expect(r.account.name).toBe("good");
		expect(r.attempts).toBe(2);
		expect(performance.now() - started).toBeLessThan(2_500);
		expect(s.table.inflight(s.slot("stall"))).toBe(0);
	});

	test("upstream 401 → account disabled and failover", async () => {
		const s = setup([
			["revoked", "sk-401"],
			["good", "sk-ok"],
		]);
		const r = await s.call();
		r.release();
		expect(r.attempts).toBe(2);
		expect(r.account.name).toBe("good");
		expect(s.table.disabledStatus(s.slot("revoked"))).toBe(401);
		// disabled accounts are not tried again
		const again = await s.call();
		again.release();
		expect(again.attempts).toBe(1);
		expect(calls.get("sk-401")).toBe(1);
	});

	test("every account 401 → 502 UPSTREAM_AUTH_FAILED", async () => {
		const s = setup([
			["a", "sk-401"],
			["b", "sk-401"],
		]);
		const e = await failure(s.call());
		expect(e.code).toBe("UPSTREAM_AUTH_FAILED");
		expect(e.status).toBe(502);
		expect(e.attempts).toBe(2);
		expect(calls.get("sk-401")).toBe(2);
	});

	test("a client that left during a slow attempt aborts it, and no further account is tried", async () => {
		const s = setup([
			["a", "sk-slow"],
			["b", "sk-ok"],
		]);
		const ac = new AbortController();
		const pending = failure(s.call({ clientGone: () => ac.signal.aborted, firstByteTimeoutMs: 10_000 }));
		await waitFor(() => (calls.get("sk-slow") ?? 0) > 0, { what: "the slow attempt to start" });
		ac.abort();
		const e = await pending;
		expect(e.code).toBe("CLIENT_CLOSED_REQUEST");
		expect(calls.get("sk-ok") ?? 0).toBe(0);
	});

	test("no account at all → UPSTREAM_NO_ACCOUNT (503)", async () => {
		const s = setup([]);
		const e = await failure(s.call());
		expect(e.code).toBe("UPSTREAM_NO_ACCOUNT");
		expect(e.status).toBe(503);
		expect(e.retryAfterSeconds).toBeUndefined();
	});

	test("every account ejected: the least bad one is still tried, once per request (never dark)", async () => {
		const s = setup([["a", "sk-503"]], 0);
		// three consecutive failures eject the account's lane for the model (default threshold)
		for (let i = 0; i < 3; i++) await failure(s.call());
		expect(s.lanes.table.ejectedUntil(s.lane("a"))).toBeGreaterThan(Date.now());
		const before = calls.get("sk-503") ?? 0;
		const e = await failure(s.call({ maxSwitches: 3 }));
		// tried once more instead of a refusal, and not hammered: one call for the request
		expect(e.code).toBe("UPSTREAM_SERVER_ERROR");
		expect(calls.get("sk-503")).toBe(before + 1);
	});

	test("an upstream 429 with retry-after on the only account: 429 with that retry-after, no upstream call", async () => {
		const s = setup([["a", "sk-429"]], 0);
		const first = await failure(s.call());
		expect(first.code).toBe("UPSTREAM_RATE_LIMITED");
		const e = await failure(s.call());
		expect(e.code).toBe("UPSTREAM_RATE_LIMITED");
		expect(e.status).toBe(429);
		expect(e.retryAfterSeconds).toBeGreaterThan(20);
		expect(e.retryAfterSeconds).toBeLessThanOrEqual(30);
		expect(calls.get("sk-429")).toBe(1);
	});

	test("a cooldown taken from retry-after is capped (60 s by default), not the upstream's two hours", async () => {
		const s = setup([["a", "sk-429-huge"]], 0);
		await failure(s.call());
		const until = s.lanes.table.cooldownUntil(s.lane("a"));
		expect(until).toBeGreaterThan(Date.now() + 50_000);
		expect(until).toBeLessThanOrEqual(Date.now() + 60_000);
	});

	test("one model's 503s eject that model only: another model on the same account is served", async () => {
		const s = setup([["a", "sk-ok"]], 0);
		for (let i = 0; i < 3; i++) await failure(s.call({ model: "down-model" }));
		expect(s.lanes.table.ejectedUntil(s.lane("a", "down-model"))).toBeGreaterThan(Date.now());
		expect(s.table.ejectedUntil(s.slot("a"))).toBe(0);
		const ok = await s.call();
		ok.release();
		expect(ok.attempts).toBe(1);
		expect(ok.account.name).toBe("a");
	});

	test("connection failures stay account-wide: every model of the account is ejected", async () => {
		const s = setup([["a", "sk-ok", closedUrl]], 0);
		for (let i = 0; i < 3; i++) await failure(s.call({ model: "m1" }));
		expect(s.table.ejectedUntil(s.slot("a"))).toBeGreaterThan(Date.now());
		expect(s.lane("a", "m1")).toBe(-1);
	});
});

describe("upstreamErrorMessage", () => {
	test("OpenAI and Anthropic shapes, plain text, empty", () => {
		expect(upstreamErrorMessage('{"error":{"message":"m1"}}')).toBe("m1");
		expect(upstreamErrorMessage('{"type":"error","error":{"type":"x","message":"m2"}}')).toBe("m2");
		expect(upstreamErrorMessage('{"message":"m3"}')).toBe("m3");
		expect(upstreamErrorMessage("plain")).toBe("plain");
		expect(upstreamErrorMessage("x".repeat(1000))).toHaveLength(300);
		expect(upstreamErrorMessage("")).toBe("The upstream rejected the request");
	});
});

describe("callWithFailover over several targets", () => {
	/** Providers `p1` and `p2`, each with accounts [name, key], over one table and one selector. */
	function targets(p1: [string, string][], p2: [string, string][]) {
		const table = AccountStateTable.create();
		const providerConfig = (name: string, accounts: [string, string][]): ProviderConfig => ({
			name,
			type: "openai",
			base_url: upstreamUrl,
			models: [MODEL, "other-model", "down-model"],
			headers: {},
			accounts: accounts.map(([n, api_key]) => ({ name: n, api_key, weight: 1, max_concurrency: 0 })),
		});
		const set = buildProviderSet([providerConfig("p1", p1), providerConfig("p2", p2)], ROUTING, (p, a) =>
			table.allocate(accountKey(p, a)),
		);
		const selector = createPoolAccountSelector({
			health: new AccountHealth(table),
			lanes: new ModelLanes(AccountStateTable.create(64), table),
			sticky: new StickySessions(),
		});
		const body = { model: MODEL, messages: [{ role: "user", content: "hi" }] };
		const raw = JSON.stringify(body);
		const planned: string[] = [];
		return {
			p1: set.providers.get("p1") as ProviderRuntime,
			p2: set.providers.get("p2") as ProviderRuntime,
			planned,
			call: (list: { provider: ProviderRuntime; model: string }[], maxSwitches = 3, refuse?: string) =>
				callWithFailover({
					selector,
					targets: list,
					maxSwitches,
					deadlineAt: performance.now() + 10_000,
					firstByteTimeoutMs: 2_000,
					plan: (target) => {
						planned.push(`${target.provider.name}/${target.model}`);
						if (target.provider.name === refuse) {
							throw new GatewayError("PLATFORM_INVALID_REQUEST", "this endpoint is not served there");
						}
						return {
							build: (account) => buildOpenAIRequest(target.provider, account, "chat", target.model, body, raw),
						};
					},
				}),
		};
	}

	test("the first target's accounts fail → the next target serves, within the attempt count; its plan comes back", async () => {
		const s = targets(
			[
				["a", "sk-503"],
				["b", "sk-503"],
			],
			[["c", "sk-ok"]],
		);
		const r = await s.call([
			{ provider: s.p1, model: MODEL },
			{ provider: s.p2, model: "other-model" },
		]);
		r.release();
		expect(r.attempts).toBe(3);
		expect(r.target.provider.name).toBe("p2");
		expect(r.target.model).toBe("other-model");
		expect(r.account.name).toBe("c");
		expect(((await r.response.json()) as { model: string }).model).toBe("other-model");
		// a plan per target, each chosen once, when the loop first turned to it
		expect(s.planned).toEqual([`p1/${MODEL}`, "p2/other-model"]);
		expect(calls.get("sk-503")).toBe(2);
	});

	test("max_account_switches counts every attempt: the cap is reached before the second target", async () => {
		const s = targets(
			[
				["a", "sk-503"],
				["b", "sk-503"],
			],
			[["c", "sk-ok"]],
		);
		const e = await failure(
			s.call(
				[
					{ provider: s.p1, model: MODEL },
					{ provider: s.p2, model: MODEL },
				],
				1,
			),
		);
		expect(e.code).toBe("UPSTREAM_SERVER_ERROR");
		expect(e.attempts).toBe(2);
		expect(calls.get("sk-ok")).toBeUndefined();
	});

	test("an account tried for one model is still a candidate for the next target's model", async () => {
		const s = targets([["a", "sk-ok"]], []);
		const r = await s.call([
			{ provider: s.p1, model: "down-model" },
			{ provider: s.p1, model: MODEL },
		]);
		r.release();
		expect(r.attempts).toBe(2);
		expect(r.account.name).toBe("a");
		expect(r.target.model).toBe(MODEL);
	});

	test("a target that cannot carry the request is skipped; a lone one refuses before any call", async () => {
		const s = targets([["a", "sk-ok"]], [["c", "sk-ok2"]]);
		const r = await s.call(
			[
				{ provider: s.p1, model: MODEL },
				{ provider: s.p2, model: MODEL },
			],
			3,
			"p1",
		);
		r.release();
		expect(r.attempts).toBe(1);
		expect(r.target.provider.name).toBe("p2");
		expect(calls.get("sk-ok")).toBeUndefined();

		const e = await failure(s.call([{ provider: s.p1, model: MODEL }], 3, "p1"));
		expect(e.code).toBe("PLATFORM_INVALID_REQUEST");
		expect(calls.get("sk-ok")).toBeUndefined();
	});
});
