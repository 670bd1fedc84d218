import { type Static, type TObject, type TOptional, type TString, Type as t } from "@sinclair/typebox";
import { GatewayError } from "../errors/gateway-error.ts";

/** Query parameters are strings; a schema of optional strings describes a route's (and documents it). */
export type QuerySchema = TObject<Record<string, TOptional<TString>>>;

/** An optional query parameter with its description (the OpenAPI document shows it). */
export const param = (description: string) => t.Optional(t.String({ description }));

/**
 * Reads a query against its schema: a name the route does not know is refused with a 400
 * naming it, rather than ignored (a misspelt filter would otherwise widen the answer
 * silently), and so is a parameter given twice.
 */
export function readQuery<S extends QuerySchema>(schema: S, query: Record<string, unknown>): Partial<Static<S>> {
	const allowed = Object.keys(schema.properties);
	const unknown = Object.keys(query).filter((k) => !allowed.includes(k));
	if (unknown.length > 0) {
		throw new GatewayError(
			"PLATFORM_INVALID_REQUEST",
			`Unknown query parameter${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => `'${k}'`).join(", ")} (allowed: ${allowed.join(", ")})`,
			{ param: unknown[0] },
		);
	}
	for (const [k, v] of Object.entries(query)) {
		if (v !== undefined && typeof v !== "string")
			throw new GatewayError("PLATFORM_INVALID_REQUEST", `'${k}' must be given once`, { param: k });
	}
	return query as Partial<Static<S>>;
}
