import { cors } from "@elysiajs/cors";
import { type AnyElysia, Elysia } from "elysia";
import { consoleRoutes } from "./console/console-routes.ts";
import type { GatewayDeps } from "./data-plane/gateway-deps.ts";
import { createDataPlane, nativeDataPlaneRoutes } from "./data-plane/index.ts";
import { errorResponse } from "./errors/error-response.ts";
import { GatewayError } from "./errors/gateway-error.ts";
import { createOpsRoutes, type OpsDeps } from "./ops/index.ts";
import { requestIdsFor } from "./plugins/request-id.ts";
import { anthropicErrorResponse } from "./protocols/anthropic/error-response.ts";

export interface AppDeps extends GatewayDeps {
	ops: OpsDeps;
	/** Extra route groups (admin API) mounted as they are. */
	plugins?: AnyElysia[];
}

/** Elysia's own error codes → ours. */
function fromElysiaError(code: string | number, error: unknown): GatewayError | unknown {
	switch (code) {
		case "NOT_FOUND":
			return new GatewayError("PLATFORM_NOT_FOUND", "Unknown route");
		case "PARSE":
			return new GatewayError("PLATFORM_INVALID_JSON", "The request body could not be parsed");
		case "VALIDATION":
			return new GatewayError("PLATFORM_INVALID_REQUEST", (error as Error).message?.slice(0, 500) ?? "Invalid request");
		default:
			return error;
	}
}

const isAnthropicPath = (path: string) => path.endsWith("/messages") || path.endsWith("/messages/count_tokens");

/** Builds the whole HTTP app without listening; tests call `app.handle(new Request(…))`. */
export function createApp(deps: AppDeps) {
	const origins = deps.config.server.cors_origins;
	let app = new Elysia({ name: "interchange" })
		.use(
			cors({
				origin: origins.includes("*") ? true : origins,
				// explicit lists: the plugin otherwise reflects every request's header names,
				// a per-request cost; Authorization must be named, "*" does not cover it
				allowedHeaders: ["authorization", "*"],
				exposeHeaders: [
					"x-request-id",
					"retry-after",
					"retry-after-ms",
					"x-should-retry",
					"x-ratelimit-limit-requests",
					"x-ratelimit-remaining-requests",
					"x-ratelimit-reset-requests",
					"x-ratelimit-limit-tokens",
					"x-ratelimit-remaining-tokens",
					"x-ratelimit-reset-tokens",
				],
				credentials: false,
			}),
		)
		.derive({ as: "global" }, ({ request, set }) => {
			const ids = requestIdsFor(request.headers);
			set.headers["x-request-id"] = ids.visible;
			return { ids, startedAt: performance.now() };
		})
		.onError({ as: "global" }, ({ code, error, request, path, ...ctx }) => {
			const ids = (ctx as { ids?: { visible: string } }).ids ?? requestIdsFor(request.headers);
			return errorResponseFor(deps.logger, path, fromElysiaError(code, error), ids.visible);
		})
		.use(createOpsRoutes(deps.ops, { healthRoute: deps.config.server.health_route }))
		.use(createDataPlane(deps));
	for (const p of deps.plugins ?? []) app = app.use(p);
	// Bun's router serves the data plane directly; Elysia keeps every other route, and the
	// data-plane requests of browsers (Origin: CORS) — see nativeDataPlaneRoutes. The console's
	// static files are Bun routes too, out of both paths.
	const served = app;
	app.config.serve = {
		...app.config.serve,
		routes: {
			...nativeDataPlaneRoutes(
				deps,
				(request) => served.handle(request),
				(path, err, requestId) => errorResponseFor(deps.logger, path, err, requestId),
			),
			...consoleRoutes((err) => deps.logger.error({ err }, "the console could not be built")),
		},
	};
	return app;
}

/** The one place a thrown value becomes the client's error response (OpenAI or Anthropic shape). */
function errorResponseFor(logger: AppDeps["logger"], path: string, err: unknown, requestId: string): Response {
	if (!(err instanceof GatewayError)) logger.error({ err, request_id: requestId, path }, "unhandled error");
	return isAnthropicPath(path) ? anthropicErrorResponse(err, requestId) : errorResponse(err, requestId);
}
