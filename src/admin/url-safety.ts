import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { GatewayError } from "../errors/gateway-error.ts";

export interface UpstreamUrlPolicy {
	/** In production private, loopback and link-local targets are refused. */
	production: boolean;
	/** Host names / addresses let through anyway (GATEWAY_UPSTREAM_ALLOWLIST). */
	allowlist: readonly string[];
	/** Resolves a host name to its addresses (tests inject one). */
	resolve?: (host: string) => Promise<string[]>;
}

function ipv4Blocked(ip: string): boolean {
	const [a, b] = ip.split(".").map(Number);
	return (
		a === 0 || // "this network"
		a === 10 ||
		a === 127 ||
		(a === 100 && b >= 64 && b <= 127) || // carrier-grade NAT
		(a === 169 && b === 254) || // link-local, cloud metadata
		(a === 172 && b >= 16 && b <= 31) ||
		(a === 192 && b === 168) ||
		(a === 198 && (b === 18 || b === 19)) || // benchmarking
		a >= 224 // multicast, reserved, broadcast
	);
}

/** True for addresses an admin-created upstream must not point at in production. */
export function isBlockedAddress(address: string): boolean {
	const ip = address.replace(/^\[|\]$/g, "").toLowerCase();
	if (isIP(ip) === 4) return ipv4Blocked(ip);
	if (isIP(ip) !== 6) return true;
	const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(ip);
	if (mapped) return ipv4Blocked(mapped[1]);
	if (ip === "::" || ip === "::1") return true;
	const first = Number.parseInt(ip.split(":")[0] || "0", 16);
	return (
		(first & 0xfe00) === 0xfc00 || // unique local fc00::/7
		(first & 0xffc0) === 0xfe80 || // link-local fe80::/10
		(first & 0xff00) === 0xff00 // multicast
	);
}

export const badUrl = (message: string) => new GatewayError("PLATFORM_INVALID_REQUEST", message, { param: "base_url" });

/**
 * Checks a base URL given through the admin API: http(s) only, no credentials in it, and in
 * production no private, loopback or link-local target (host names are resolved and every
 * address checked) unless the host is allowlisted. Answers the URL without trailing slashes.
 * A name that resolves differently later (DNS rebinding) is not covered: allowlist instead.
 */
export async function validateUpstreamUrl(raw: string, policy: UpstreamUrlPolicy): Promise<string> {
	let url: URL;
	try {
		url = new URL(raw);
	} catch {
		throw badUrl("base_url must be an absolute http(s) URL");
	}
	if (url.protocol !== "http:" && url.protocol !== "https:") throw badUrl("base_url must use http or https");
	if (url.username || url.password) throw badUrl("base_url must not carry credentials; use an account api_key");
	const clean = raw.replace(/\/+$/, "");
	if (!policy.production) return clean;
	const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
	if (policy.allowlist.some((h) => h.toLowerCase() === host)) return clean;
	let addresses: string[];
	if (isIP(host)) addresses = [host];
	else {
		try {
			addresses = await (policy.resolve ?? defaultResolve)(host);
		} catch {
			throw badUrl(`base_url host '${host}' does not resolve`);
		}
	}
	if (addresses.length === 0) throw badUrl(`base_url host '${host}' does not resolve`);
	const blocked = addresses.find(isBlockedAddress);
	if (blocked) {
		throw badUrl(
			`base_url host '${host}' points at a private, loopback or link-local address (${blocked}); add it to GATEWAY_UPSTREAM_ALLOWLIST to allow it`,
		);
	}
	return clean;
}

async function defaultResolve(host: string): Promise<string[]> {
	return (await lookup(host, { all: true })).map((a) => a.address);
}
