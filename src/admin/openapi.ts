import type { TSchema } from "@sinclair/typebox";
import type { AdminRoute } from "./admin-route-table.ts";

/** Elysia's `:name` path parameters as OpenAPI's `{name}`. */
export const openApiPath = (path: string) => `/admin${path.replace(/:([A-Za-z_]+)/g, "{$1}")}`;

/** A TypeBox schema as plain JSON Schema (its symbol-keyed TypeBox markers dropped). */
const jsonSchema = (s: TSchema): Record<string, unknown> => JSON.parse(JSON.stringify(s));

const ERROR_RESPONSE = {
	description: "An OpenAI-shaped error with a stable code and the request id",
	content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
};

/** The admin API as an OpenAPI 3.1 document, built from the route table's schemas. */
export function buildOpenApiDocument(routes: readonly AdminRoute[], version: string) {
	const paths: Record<string, Record<string, unknown>> = {};
	for (const r of routes) {
		const path = openApiPath(r.path);
		const parameters = [
			...[...r.path.matchAll(/:([A-Za-z_]+)/g)].map((m) => ({
				name: m[1],
				in: "path",
				required: true,
				schema: { type: "string" },
			})),
			...Object.entries(r.query?.properties ?? {}).map(([name, s]) => ({
				name,
				in: "query",
				required: false,
				description: s.description,
				schema: { type: "string" },
			})),
		];
		const operation: Record<string, unknown> = {
			operationId: `${r.method.toLowerCase()}${r.path.replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ?? "").toUpperCase())}`,
			summary: r.summary,
			...(parameters.length > 0 ? { parameters } : {}),
			...(r.body
				? { requestBody: { required: true, content: { "application/json": { schema: jsonSchema(r.body) } } } }
				: {}),
			responses: {
				[String(r.status ?? 200)]: { description: r.response },
				"400": ERROR_RESPONSE,
				"401": ERROR_RESPONSE,
				...(r.path.includes(":") ? { "404": ERROR_RESPONSE } : {}),
			},
		};
		paths[path] = { ...paths[path], [r.method.toLowerCase()]: operation };
	}
	return {
		openapi: "3.1.0",
		info: {
			title: "Interchange admin API",
			version,
			description:
				"Keys, tenants, providers and accounts, prices, request logs, usage and the admin audit trail. Every route wants the admin token.",
		},
		servers: [{ url: "/" }],
		security: [{ bearer: [] }, { adminToken: [] }],
		components: {
			securitySchemes: {
				bearer: { type: "http", scheme: "bearer" },
				adminToken: { type: "apiKey", in: "header", name: "X-Admin-Token" },
			},
			schemas: {
				Error: {
					type: "object",
					required: ["error"],
					properties: {
						error: {
							type: "object",
							required: ["message", "type", "code", "request_id"],
							properties: {
								message: { type: "string" },
								type: { type: "string" },
								param: { type: ["string", "null"] },
								code: { type: "string" },
								request_id: { type: "string" },
							},
						},
					},
				},
			},
		},
		paths,
	};
}

export type OpenApiDocument = ReturnType<typeof buildOpenApiDocument>;
