import type { Server } from "bun";
import { Elysia } from "elysia";
import { extractToken } from "../auth/extract-token.ts";
import type { Balance } from "../limits/balance.ts";
import { type RequestIds, requestIdsFor } from "../plugins/request-id.ts";
import type { Operation } from "../protocols/operations.ts";
import type { GatewayDeps } from "./gateway-deps.ts";
import { modelFor, modelsFor } from "./models.ts";
import { proxyRequest } from "./proxy-request.ts";
import { UpstreamModels } from "./upstream-models.ts";

const PREFIXES = ["/v1", "/api/v1"];
/** The balance of any key when the gateway runs without per-key limits. */
const UNLIMITED: Balance = { object: "token_balance", key_id: null, limited: false, limits: {} };
const OPERATIONS: [string, Operation][] = [
	["/chat/completions", "chat"],
	["/completions", "completions"],
	["/embeddings", "embeddings"],
	["/responses", "responses"],
	["/messages", "messages"],
	["/messages/count_tokens", "count_tokens"],
	["/images/generations", "images_generations"],
	["/images/edits", "images_edits"],
	["/images/variations", "images_variations"],
	["/audio/speech", "audio_speech"],
	["/audio/transcriptions", "audio_transcriptions"],
	["/audio/translations", "audio_translations"],
	["/moderations", "moderations"],
];

/** Every data-plane POST route: its path, the canonical endpoint (without /api) and the operation. */
const POST_ROUTES = PREFIXES.flatMap((prefix) =>
	OPERATIONS.map(([path, op]) => ({ path: `${prefix}${path}`, endpoint: `/v1${path}`, op })),
);

type Ctx = {
	request: Request;
	ids: RequestIds;
	startedAt: number;
	server: import("bun").Server<unknown> | null;
	set: { headers: Record<string, string | number> };
};

/**
 * Hands our own Response to Elysia as it is. With anything left in `set.headers` Elysia
 * rebuilds the Response around our body (a second stream wrapper on every streamed answer,
 * the largest single cost in profiles); the request id is already on our Response, and CORS
 * headers only matter to browsers, which always send Origin: for those we copy them over.
 */
function adopt(res: Response, request: Request, set: Ctx["set"]): Response {
	if (request.headers.has("origin")) {
		for (const [k, v] of Object.entries(set.headers)) if (!res.headers.has(k)) res.headers.set(k, String(v));
	}
	set.headers = {};
	return res;
}

type NativeHandler = (request: Request, server: Server<unknown>) => Response | Promise<Response>;

/**
 * The data-plane POST routes as Bun route handlers, served by Bun's router without Elysia's
 * per-request context, hooks and response mapping (measured: the largest framework cost on
 * the hot path). A request with an Origin header (a browser: CORS applies) is handed to the
 * Elysia app instead, which answers it exactly as before; so do all other routes.
 */
export function nativeDataPlaneRoutes(
	deps: GatewayDeps,
	viaApp: (request: Request) => Response | Promise<Response>,
	onError: (path: string, err: unknown, requestId: string) => Response,
): Record<string, { POST: NativeHandler }> {
	const routes: Record<string, { POST: NativeHandler }> = {};
	for (const { path, endpoint, op } of POST_ROUTES) {
		routes[path] = {
			POST: (request, server) => {
				if (request.headers.has("origin")) return viaApp(request);
				const startedAt = performance.now();
				const ids = requestIdsFor(request.headers);
				return proxyRequest(deps, op, request, {
					ids,
					startedAt,
					endpoint,
					keepOpen: () => server.timeout(request, 0),
				}).catch((err) => onError(endpoint, err, ids.visible));
			},
		};
	}
	return routes;
}

/** A model id from the path; one that does not decode is kept as sent (and resolves to a 404). */
function decodedId(raw: string): string {
	try {
		return decodeURIComponent(raw);
	} catch {
		return raw;
	}
}

/** The OpenAI- and Anthropic-shaped endpoints, under /v1 and /api/v1. Thin: the work is in proxyRequest. */
export function createDataPlane(deps: GatewayDeps) {
	const app = new Elysia({ name: "data-plane" });
	for (const { path, endpoint, op } of POST_ROUTES) {
		app.post(
			path,
			(c) => {
				const { request, ids, startedAt, server, set } = c as unknown as Ctx;
				return proxyRequest(deps, op, request, {
					ids,
					startedAt,
					endpoint,
					keepOpen: () => server?.timeout(request, 0),
				}).then((res) => adopt(res, request, set));
			},
			{ parse: "none" },
		);
	}
	const upstreamModels = new UpstreamModels();
	for (const prefix of PREFIXES) {
		// the caller's own key only: the principal comes from the presented key, never a parameter
		app.get(`${prefix}/token/balance`, async ({ request }) => {
			const principal = await deps.auth.authenticate(extractToken(request.headers));
			return deps.balance?.(principal) ?? { ...UNLIMITED, key_id: principal.keyId };
		});
		app.get(`${prefix}/models`, async ({ request }) => {
			const principal = await deps.auth.authenticate(extractToken(request.headers));
			return { object: "list", data: await modelsFor(deps, upstreamModels, principal) };
		});
		// model ids may contain "/" (provider/model, OpenRouter ids); SDKs send it encoded or not
		app.get(`${prefix}/models/*`, async ({ request, params }) => {
			const principal = await deps.auth.authenticate(extractToken(request.headers));
			return modelFor(deps, principal, decodedId(params["*"]));
		});
	}
	return app;
}
