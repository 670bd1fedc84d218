import { GatewayError } from "../errors/gateway-error.ts";
import { type TargetGuardOptions, UpstreamTargetGuard } from "../providers/upstream-target-guard.ts";

export interface UpstreamUrlPolicy extends TargetGuardOptions {
	/** In production private, loopback and link-local targets are refused. */
	production: boolean;
}

export const badUrl = (message: string) => new GatewayError("PLATFORM_INVALID_REQUEST", message, { param: "base_url" });

/**
 * Checks a base URL given through the admin API: http(s) only, no credentials in it, and in
 * production no private, loopback or link-local target (host names are resolved and every
 * address checked) unless the host is allowlisted. Answers the URL without trailing slashes.
 * The same check runs again before each connection (UpstreamTargetGuard), for names whose
 * answers change later.
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
	const host = url.hostname.replace(/^\[|\]$/g, "");
	let blocked: string | null;
	try {
		blocked = await new UpstreamTargetGuard(policy).addressBlocked(host);
	} catch {
		throw badUrl(`base_url host '${host}' does not resolve`);
	}
	if (blocked) {
		throw badUrl(
			`base_url host '${host}' points at a private, loopback or link-local address (${blocked}); add it to GATEWAY_UPSTREAM_ALLOWLIST to allow it`,
		);
	}
	return clean;
}
