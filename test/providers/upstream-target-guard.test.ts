import { describe, expect, test } from "bun:test";
import { validateUpstreamUrl } from "../../src/admin/url-safety.ts";
import { GatewayError } from "../../src/errors/gateway-error.ts";
import {
	BlockedTargetError,
	canonicalHost,
	isBlockedAddress,
	UpstreamTargetGuard,
} from "../../src/providers/upstream-target-guard.ts";

describe("blocked addresses", () => {
	test("IPv4 inside IPv6 (mapped, compatible, NAT64, 6to4) is judged by its IPv4", () => {
		for (const ip of [
			"::ffff:127.0.0.1",
			"::ffff:7f00:1",
			"::ffff:169.254.169.254",
			"::ffff:a9fe:a9fe",
			"[::ffff:10.0.0.1]",
			"::127.0.0.1",
			"::7f00:1",
			"64:ff9b::7f00:1",
			"64:ff9b::a9fe:a9fe",
			"2002:7f00:1::1",
			"2002:a9fe:a9fe::",
			"::",
			"::1",
			"0:0:0:0:0:0:0:1",
		]) {
			expect([ip, isBlockedAddress(ip)]).toEqual([ip, true]);
		}
		for (const ip of ["::ffff:8.8.8.8", "::ffff:808:808", "64:ff9b::808:808", "2002:808:808::1", "2606:4700::1111"]) {
			expect([ip, isBlockedAddress(ip)]).toEqual([ip, false]);
		}
	});

	test("numeric IPv4 forms: decimal, hex, octal, short", () => {
		for (const host of ["2130706433", "0x7f000001", "0177.0.0.1", "127.1", "0x7f.1", "2852039166"]) {
			expect([host, isBlockedAddress(host)]).toEqual([host, true]);
		}
		expect(canonicalHost("0177.0.0.1")).toBe("127.0.0.1");
		expect(canonicalHost("2852039166")).toBe("169.254.169.254");
		expect(isBlockedAddress("134744072")).toBe(false); // 8.8.8.8
	});

	test("production refuses every spelling of a private target as a base URL", async () => {
		const prod = { production: true, allowlist: [], resolve: async () => ["93.184.216.34"] };
		for (const url of [
			"http://[::ffff:127.0.0.1]/v1",
			"http://[::ffff:7f00:1]/v1",
			"http://[::ffff:169.254.169.254]/latest",
			"http://[::127.0.0.1]/v1",
			"http://2130706433/v1",
			"http://0x7f000001/v1",
			"http://0177.0.0.1/v1",
			"http://127.1/v1",
		]) {
			await expect(validateUpstreamUrl(url, prod)).rejects.toThrow(GatewayError);
		}
		// dev keeps allowing local upstreams, as before
		expect(await validateUpstreamUrl("http://[::ffff:127.0.0.1]:8000/v1", { production: false, allowlist: [] })).toBe(
			"http://[::ffff:127.0.0.1]:8000/v1",
		);
	});
});

describe("UpstreamTargetGuard (connect time)", () => {
	test("a name that resolves to a private address after it was accepted is refused", async () => {
		let answer = ["93.184.216.34"];
		let lookups = 0;
		const guard = new UpstreamTargetGuard({
			allowlist: [],
			ttlMs: 0,
			resolve: async () => {
				lookups++;
				return answer;
			},
		});
		await guard.check("https://api.example.com/v1/chat/completions");
		answer = ["::ffff:169.254.169.254"];
		await expect(guard.check("https://api.example.com/v1/chat/completions") as Promise<void>).rejects.toThrow(
			BlockedTargetError,
		);
		expect(lookups).toBe(2);
	});

	test("verdicts are cached: a known-good host costs no lookup and no await", async () => {
		let lookups = 0;
		const guard = new UpstreamTargetGuard({
			allowlist: ["vllm.internal"],
			resolve: async (h) => {
				lookups++;
				return h === "evil.example" ? ["10.0.0.5"] : ["93.184.216.34"];
			},
		});
		await guard.check("https://api.example.com/v1");
		expect(guard.check("https://api.example.com/v1/other")).toBeUndefined();
		expect(lookups).toBe(1);
		await expect(guard.check("http://evil.example/v1") as Promise<void>).rejects.toThrow("private");
		await expect(guard.check("http://evil.example/v1") as Promise<void>).rejects.toThrow(BlockedTargetError);
		expect(lookups).toBe(2);
		// allowlisted and literal public addresses need no lookup at all
		await guard.check("http://vllm.internal:8000/v1");
		await guard.check("http://8.8.8.8/v1");
		await expect(guard.check("http://[::ffff:7f00:1]/v1") as Promise<void>).rejects.toThrow(BlockedTargetError);
		expect(lookups).toBe(2);
	});
});
