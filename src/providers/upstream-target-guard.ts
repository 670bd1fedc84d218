import { isIP } from "node:net";

/**
 * Which network targets an upstream created through the admin API may reach in production,
 * checked twice: when its URL is given (admin) and before each connection (the address a
 * name resolves to can change after it was accepted).
 */

/** A host as the URL parser writes it: decimal, hex, octal and short IPv4 forms become dotted quads. */
export function canonicalHost(host: string): string {
	const bare = host.replace(/^\[|\]$/g, "");
	const bracketed = bare.includes(":") ? `[${bare}]` : bare;
	try {
		return new URL(`http://${bracketed}/`).hostname.replace(/^\[|\]$/g, "").toLowerCase();
	} catch {
		return bare.toLowerCase();
	}
}

function ipv4Blocked(a: number, b: number): boolean {
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

/** The eight 16-bit groups of an IPv6 address (dotted IPv4 tail included). */
function ipv6Groups(ip: string): number[] {
	let text = ip;
	const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
	if (v4) {
		const [a, b, c, d] = v4.slice(1).map(Number);
		text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
	}
	const [head, tail] = text.split("::");
	const parse = (s: string | undefined) => (s ? s.split(":").map((g) => Number.parseInt(g, 16)) : []);
	const h = parse(head);
	const t = parse(tail);
	return tail === undefined ? h : [...h, ...new Array(8 - h.length - t.length).fill(0), ...t];
}

/**
 * True for addresses an admin-created upstream must not reach in production: private,
 * loopback, link-local (cloud metadata), CGNAT, multicast and reserved IPv4; the same behind
 * IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::/96) and 6to4
 * (2002::/16) IPv6; IPv6 loopback, unspecified, unique-local, link-local and multicast.
 * Anything that is not an IP address is refused too.
 */
export function isBlockedAddress(address: string): boolean {
	const ip = canonicalHost(address);
	if (isIP(ip) === 4) {
		const [a, b] = ip.split(".").map(Number);
		return ipv4Blocked(a, b);
	}
	if (isIP(ip) !== 6) return true;
	const g = ipv6Groups(ip);
	const zeros = (n: number) => g.slice(0, n).every((x) => x === 0);
	// an IPv4 address carried in the last 32 bits, or in bits 16–48 for 6to4
	if (
		(zeros(5) && (g[5] === 0xffff || g[5] === 0)) ||
		(g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0))
	) {
		if (zeros(6) && g[6] === 0 && g[7] <= 1) return true; // :: and ::1
		return ipv4Blocked(g[6] >> 8, g[6] & 0xff);
	}
	if (g[0] === 0x2002) return ipv4Blocked(g[1] >> 8, g[1] & 0xff);
	return (
		(g[0] & 0xfe00) === 0xfc00 || // unique local fc00::/7
		(g[0] & 0xffc0) === 0xfe80 || // link-local fe80::/10
		(g[0] & 0xff00) === 0xff00 // multicast
	);
}

export interface TargetGuardOptions {
	/** Host names / addresses let through anyway (GATEWAY_UPSTREAM_ALLOWLIST). */
	allowlist: readonly string[];
	/** Resolves a host name to its addresses (tests inject one). */
	resolve?: (host: string) => Promise<string[]>;
	/** How long a verdict on a host name is kept; Bun's own DNS cache keeps answers up to 30 s. */
	ttlMs?: number;
}

/** A refused target; the failover loop turns it into a connection failure. */
export class BlockedTargetError extends Error {
	override readonly name = "BlockedTargetError";
}

const DEFAULT_TTL_MS = 30_000;
const MAX_ENTRIES = 1024;

/**
 * The check before each connection to an admin-created upstream (production only). Host
 * names are resolved and every address checked; verdicts are cached per host for `ttlMs`, so
 * the request path pays a Map lookup and no await on a hit. A name that resolves to a
 * private address after it was accepted is refused here.
 */
export class UpstreamTargetGuard {
	private readonly allow: ReadonlySet<string>;
	private readonly resolve: (host: string) => Promise<string[]>;
	private readonly ttlMs: number;
	private readonly verdicts = new Map<string, { until: number; blocked: string | null }>();

	constructor(opts: TargetGuardOptions) {
		this.allow = new Set(opts.allowlist.map((h) => canonicalHost(h)));
		this.resolve = opts.resolve ?? resolveAll;
		this.ttlMs = opts.ttlMs ?? DEFAULT_TTL_MS;
	}

	/** Undefined when the URL's host is known to be fine; else a promise that rejects with BlockedTargetError. */
	check(url: string): Promise<void> | undefined {
		const host = hostOf(url);
		const v = this.verdicts.get(host);
		if (v && v.until > performance.now())
			return v.blocked === null ? undefined : Promise.reject(refusal(host, v.blocked));
		return this.addressBlocked(host).then((blocked) => {
			if (this.verdicts.size >= MAX_ENTRIES) this.verdicts.clear();
			this.verdicts.set(host, { until: performance.now() + this.ttlMs, blocked });
			if (blocked !== null) throw refusal(host, blocked);
		});
	}

	/** The first blocked address `host` stands for, or null; BlockedTargetError when it does not resolve. */
	async addressBlocked(host: string): Promise<string | null> {
		const h = canonicalHost(host);
		if (this.allow.has(h)) return null;
		if (isIP(h)) return isBlockedAddress(h) ? h : null;
		let addresses: string[] = [];
		try {
			addresses = await this.resolve(h);
		} catch {
			// reported below
		}
		if (addresses.length === 0) throw new BlockedTargetError(`host '${h}' does not resolve`);
		return addresses.find(isBlockedAddress) ?? null;
	}
}

const hostOf = (url: string) => canonicalHost(new URL(url).hostname);

const refusal = (host: string, blocked: string) =>
	new BlockedTargetError(`upstream host '${host}' points at a private, loopback or link-local address (${blocked})`);

/** Bun's resolver: the same cache fetch() connects with. */
async function resolveAll(host: string): Promise<string[]> {
	return (await Bun.dns.lookup(host)).map((a) => a.address);
}
