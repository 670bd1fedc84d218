import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Server } from "bun";
import { IntrospectionAuthenticator } from "../../src/auth/introspection-authenticator.ts";
import { GatewayError } from "../../src/errors/gateway-error.ts";

/** A local RFC 7662-style token service. */
let server: Server<unknown>;
let calls = 0;
let mode: "up" | "down" | "garbage" = "up";
const seen: string[] = [];

beforeAll(() => {
	server = Bun.serve({
		port: 0,
		async fetch(req) {
			calls++;
			if (mode === "down") return new Response("boom", { status: 500 });
			if (mode === "garbage") return new Response("not json", { status: 200 });
			const form = new URLSearchParams(await req.text());
			const token = form.get("token") ?? "";
			seen.push(req.headers.get("content-type") ?? "");
			if (token === "tok-active") {
				return Response.json({
					active: true,
					sub: "user-7",
					tenant_id: "acme",
					models: ["gpt-4o-mini"],
					rpm: 5,
					tenant_limits: { budget_usd: 3 },
				});
			}
			if (token === "tok-expired")
				return Response.json({
					active: true,
					exp: Math.floor(Date.now() / 1000) - 10,
				});
			return Response.json({ active: false });
		},
	});
});

afterAll(() => server.stop(true));

const url = () => `http://127.0.0.1:${server.port}/introspect`;

async function codeOf(fn: () => unknown): Promise<string> {
	try {
		await fn();
	} catch (e) {
		if (e instanceof GatewayError) return e.code;
		throw e;
	}
	return "ok";
}

describe("IntrospectionAuthenticator", () => {
	test("active token → principal from the answer; cached for the TTL", async () => {
		mode = "up";
		calls = 0;
		const auth = new IntrospectionAuthenticator({ url: url(), ttlMs: 60_000 });
		const p = await auth.authenticate("tok-active");
		expect(p.keyId).toBe("user-7");
		expect(p.tenantId).toBe("acme");
		expect([...(p.models ?? [])]).toEqual(["gpt-4o-mini"]);
		expect(p.limits).toEqual({ rpm: 5 });
		expect((p as { tenantLimits?: unknown }).tenantLimits).toEqual({
			budget_usd: 3,
		});
		await auth.authenticate("tok-active");
		expect(calls).toBe(1);
		expect(seen[0]).toContain("application/x-www-form-urlencoded");
	});

	test("inactive token → 401, remembered briefly", async () => {
		mode = "up";
		calls = 0;
		const auth = new IntrospectionAuthenticator({
			url: url(),
			negativeTtlMs: 60_000,
		});
		expect(await codeOf(() => auth.authenticate("tok-nope"))).toBe("PLATFORM_AUTH_INVALID_API_KEY");
		expect(await codeOf(() => auth.authenticate("tok-nope"))).toBe("PLATFORM_AUTH_INVALID_API_KEY");
		expect(calls).toBe(1);
	});

	test("a past exp → 401 expired", async () => {
		mode = "up";
		const auth = new IntrospectionAuthenticator({ url: url() });
		expect(await codeOf(() => auth.authenticate("tok-expired"))).toBe("PLATFORM_AUTH_KEY_EXPIRED");
	});

	test("service down, answering garbage, or unreachable → 503 fail closed, not cached", async () => {
		calls = 0;
		mode = "down";
		const auth = new IntrospectionAuthenticator({ url: url() });
		expect(await codeOf(() => auth.authenticate("tok-active"))).toBe("PLATFORM_AUTH_UNAVAILABLE");
		mode = "garbage";
		expect(await codeOf(() => auth.authenticate("tok-active"))).toBe("PLATFORM_AUTH_UNAVAILABLE");
		expect(calls).toBe(2);
		mode = "up";
		expect(await codeOf(() => auth.authenticate("tok-active"))).toBe("ok");
		const unreachable = new IntrospectionAuthenticator({
			url: "http://127.0.0.1:1/introspect",
			timeoutMs: 500,
		});
		expect(await codeOf(() => unreachable.authenticate("tok-active"))).toBe("PLATFORM_AUTH_UNAVAILABLE");
	});

	test("the answer expires after the TTL and the service is asked again", async () => {
		mode = "up";
		calls = 0;
		let now = Date.now();
		const auth = new IntrospectionAuthenticator({
			url: url(),
			ttlMs: 1_000,
			now: () => now,
		});
		await auth.authenticate("tok-active");
		now += 1_500;
		await auth.authenticate("tok-active");
		expect(calls).toBe(2);
	});
});
