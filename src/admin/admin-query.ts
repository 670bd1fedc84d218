import { type Static, type TObject, type TOptional, type TString, Type as t } from "@sinclair/typebox";
import { GatewayError } from "../errors/gateway-error.ts";

/** Query parameters are strings; a schema of optional strings describes a route's (and documents it). */
export type QuerySchema = TObject<Record<string, TOptional<TString>>>;

/** An optional query parameter with its description (the OpenAPI document shows it). */
export const param = (description: string) => t.Optional(t.String({ description }));

/**
 * Reads a request's query against its schema: a name the route does not know is refused with
 * a 400 naming it, rather than ignored (a misspelt filter would otherwise widen the answer
 * silently), and so is a parameter given twice.
 */
export function readQuery<S extends QuerySchema>(schema: S, request: Request): Partial<Static<S>> {
	const allowed = Object.keys(schema.properties);
	const params = new URL(request.url).searchParams;
	const out: Record<string, string> = {};
	const unknown: string[] = [];
	for (const [k, v] of params) {
		if (!allowed.includes(k)) {
			if (!unknown.includes(k)) unknown.push(k);
		} else if (k in out) {
			throw new GatewayError("PLATFORM_INVALID_REQUEST", `'${k}' is given more than once`, { param: k });
		} else out[k] = v;
	}
	if (unknown.length > 0) {
		throw new GatewayError(
			"PLATFORM_INVALID_REQUEST",
			`Unknown query parameter${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => `'${k}'`).join(", ")} (allowed: ${allowed.join(", ")})`,
			{ param: unknown[0] },
		);
	}
	return out as Partial<Static<S>>;
}
