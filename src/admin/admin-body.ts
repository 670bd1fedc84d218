import type { Static, TSchema } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { type ValueError, ValueErrorType } from "@sinclair/typebox/errors";
import { readJsonBody } from "../data-plane/read-json-body.ts";
import { GatewayError } from "../errors/gateway-error.ts";

/** Admin objects are small: a cap this low keeps an oversized post from costing memory. */
export const ADMIN_MAX_BODY_BYTES = 1024 * 1024;

/**
 * A reader for one admin body schema: JSON within ADMIN_MAX_BODY_BYTES (413 above), then the
 * schema. Route handlers call it after the admin guard has run, so an unauthenticated caller
 * never gets the body read, nor learns anything of the schema. Elysia's own body parsing is
 * not used for admin routes: it runs before any route hook, and it drops unknown fields.
 */
export function adminBody<S extends TSchema>(schema: S): (request: Request) => Promise<Static<S>> {
	const checker = TypeCompiler.Compile(schema);
	return async (request) => {
		const { value } = await readJsonBody(request, ADMIN_MAX_BODY_BYTES);
		if (checker.Check(value)) return value;
		const first = checker.Errors(value).First();
		throw first ? invalid(first) : new GatewayError("PLATFORM_INVALID_REQUEST", "The request body is invalid");
	};
}

/** One validation failure as a sentence naming the field: no schema dump, no JSON. */
function invalid(e: ValueError): GatewayError {
	const segments = e.path.split("/").slice(1);
	const fail = (message: string, at: string) =>
		new GatewayError("PLATFORM_INVALID_REQUEST", message, { param: at || null });
	switch (e.type) {
		case ValueErrorType.ObjectAdditionalProperties: {
			const properties = (e.schema as { properties?: object }).properties;
			// a record's key that breaks its pattern: the record as a whole is described
			if (!properties)
				return fail(
					`'${fieldName(segments.slice(0, -1))}' must be ${describe(e.schema)}`,
					fieldName(segments.slice(0, -1)),
				);
			const field = fieldName(segments);
			return fail(`Unknown field '${field}' (allowed: ${Object.keys(properties).join(", ")})`, field);
		}
		case ValueErrorType.ObjectRequiredProperty:
			return fail(`'${fieldName(segments)}' is required`, fieldName(segments));
		default:
			return fail(`'${fieldName(segments)}' must be ${describe(e.schema)}`, fieldName(segments));
	}
}

/** A JSON pointer's segments as a field name: accounts[0].weight. */
const fieldName = (segments: string[]) =>
	segments.reduce((acc, s) => (/^\d+$/.test(s) ? `${acc}[${s}]` : acc ? `${acc}.${s}` : s), "");

/** What a schema accepts, in words; a schema's own `description` wins. */
function describe(s: TSchema): string {
	if (typeof s.description === "string") return s.description;
	if (s.anyOf) {
		const parts = (s.anyOf as TSchema[]).map(describe);
		return parts.length > 2 ? `one of ${parts.join(", ")}` : parts.join(", or ");
	}
	if (s.const !== undefined) return JSON.stringify(s.const);
	switch (s.type) {
		case "null":
			return "null";
		case "boolean":
			return "true or false";
		case "integer":
		case "number":
			return `${s.type === "integer" ? "an integer" : "a number"}${range(s.minimum, s.maximum)}`;
		case "string":
			return `a string${span(s.minLength, s.maxLength, "characters")}${s.pattern ? ` matching ${s.pattern}` : ""}`;
		case "array":
			return `a list${span(s.minItems, s.maxItems, "items")}, each ${describe(s.items as TSchema)}`;
		case "object":
			return "an object";
		default:
			return "valid";
	}
}

function range(min: unknown, max: unknown): string {
	if (typeof min === "number" && typeof max === "number") return ` from ${min} to ${max}`;
	if (typeof min === "number") return ` from ${min}`;
	if (typeof max === "number") return ` up to ${max}`;
	return "";
}

function span(min: unknown, max: unknown, unit: string): string {
	const lo = typeof min === "number" && min > 0 ? min : null;
	const hi = typeof max === "number" ? max : null;
	if (lo !== null && hi !== null) return ` of ${lo} to ${hi} ${unit}`;
	if (hi !== null) return ` of at most ${hi} ${unit}`;
	if (lo !== null) return ` of at least ${lo} ${unit}`;
	return "";
}
