import { extractToken } from "../auth/extract-token.ts";
import { isModelAllowed } from "../auth/model-allowlist.ts";
import type { Principal } from "../auth/principal.ts";
import { toGatewayError } from "../errors/error-response.ts";
import { GatewayError } from "../errors/gateway-error.ts";
import type { Admission } from "../limits/admit.ts";
import type { RequestIds } from "../plugins/request-id.ts";
import { choosePlan } from "../protocols/choose-plan.ts";
import type { Operation } from "../protocols/operations.ts";
import { callWithFailover } from "../routing/failover.ts";
import { resolveModel } from "../routing/resolve-model.ts";
import { relayStream } from "../streaming/relay-stream.ts";
import { RequestRecord } from "../usage/request-record.ts";
import type { GatewayDeps } from "./gateway-deps.ts";
import { readJsonBody } from "./read-json-body.ts";
import { validateRequest } from "./request-schemas.ts";

export interface ProxyContext {
	ids: RequestIds;
	/** performance.now() at arrival. */
	startedAt: number;
	/** Canonical endpoint path (without /api). */
	endpoint: string;
	/** Lets a long stream outlive the server's idle timeout. */
	keepOpen?: () => void;
}

const SSE_HEADERS = {
	"content-type": "text/event-stream; charset=utf-8",
	"cache-control": "no-cache",
	"x-accel-buffering": "no",
};

/**
 * Adds a limited key's rate-limit headers to a response. Set one by one on the Response's
 * Headers: half the cost of spreading them into the init object (measured: 1.7 vs 3.3 µs
 * for 8 headers), which Bun converts through a generic object walk.
 */
function withHeaders(res: Response, extra: Record<string, string> | undefined): Response {
	if (extra) for (const k in extra) res.headers.set(k, extra[k]);
	return res;
}

function checkAllowed(principal: Principal, requested: string, resolved: string, provider: string): void {
	if (isModelAllowed(principal.models, { requested, model: resolved, provider })) return;
	throw new GatewayError("PLATFORM_MODEL_NOT_ALLOWED", `This key is not allowed to use the model '${requested}'`, {
		param: "model",
	});
}

/**
 * The data-plane request path, shared by every endpoint: authenticate → read and validate
 * → resolve the model → admit (limits) → failover loop → relay or map the answer → one usage
 * event. Errors are thrown as GatewayError and mapped once by the app's error handler.
 */
export async function proxyRequest(
	deps: GatewayDeps,
	op: Operation,
	request: Request,
	ctx: ProxyContext,
): Promise<Response> {
	const record = new RequestRecord(deps.usage, deps.prices, deps.recordListeners, {
		requestId: ctx.ids.id,
		clientRequestId: ctx.ids.clientId,
		endpoint: ctx.endpoint,
		userAgent: request.headers.get("user-agent"),
		startedAt: ctx.startedAt,
	});
	const ev = record.event;
	// slow first tokens and long answers must not be cut by the server's idle timer; the
	// request deadline (routing.request_timeout_ms) bounds them instead
	ctx.keepOpen?.();
	const drain = deps.drain;
	if (drain) {
		drain.begin();
		record.onFinish = () => drain.end();
	}
	let admission: Admission | null = null;
	// Rate-limit headers of a limited key go on every response after admission, errors too.
	let limitHeaders: Record<string, string> | undefined;
	try {
		if (drain?.draining) throw new GatewayError("PLATFORM_SHUTTING_DOWN", "The gateway is shutting down; retry");
		const authenticated = deps.auth.authenticate(extractToken(request.headers));
		// a cache hit answers synchronously: no promise hop for it
		const principal = authenticated instanceof Promise ? await authenticated : authenticated;
		ev.key_id = principal.keyId;
		ev.tenant_id = principal.tenantId;
		const { value, raw } = await readJsonBody(request, deps.config.server.max_body_bytes);
		const body = validateRequest(op, value);
		ev.requested_model = body.model;
		ev.stream = body.stream === true;
		const { provider, model } = resolveModel(body.model, deps.providers(), deps.config.aliases);
		ev.provider = provider.name;
		ev.model = model;
		checkAllowed(principal, body.model, model, provider.name);
		if (deps.admit) {
			const pending = deps.admit(principal, op, body, raw.length, {
				model,
				provider: provider.name,
				signal: () => request.signal,
			});
			admission = pending instanceof Promise ? await pending : pending;
			limitHeaders = admission.headers;
		}
		const plan = choosePlan({
			op,
			provider,
			model,
			requestedModel: body.model,
			body,
			raw,
			clientHeaders: request.headers,
		});

		const up = await callWithFailover({
			selector: deps.selector,
			provider,
			model,
			sessionKey: request.headers.get("x-session-id") ?? body.user ?? undefined,
			maxSwitches: deps.config.routing.max_account_switches,
			deadlineAt: ctx.startedAt + deps.config.routing.request_timeout_ms,
			firstByteTimeoutMs: deps.config.routing.first_byte_timeout_ms,
			clientGone: () => request.signal.aborted,
			build: plan.build,
		});
		ev.account = up.account.name;
		ev.attempts = up.attempts;

		const isSse = (up.response.headers.get("content-type") ?? "").includes("text/event-stream");
		if (ev.stream && isSse && up.response.body) {
			const settle = admission;
			admission = null;
			const stream = relayStream({
				body: up.response.body,
				transform: plan.streamTransform(),
				keepaliveMs: deps.config.server.keepalive_interval_ms,
				startedAt: ctx.startedAt,
				abortUpstream: up.abort,
				onEnd: (r) => {
					up.release();
					const incomplete = !r.completed;
					record.finish(r.cancelled ? 499 : 200, r.errorCode, r.usage, {
						ttft_ms: r.ttftMs === null ? null : Math.round(r.ttftMs),
						incomplete,
					});
					settle?.settle(ev.total_tokens, ev.cost_usd);
				},
			});
			return withHeaders(
				new Response(stream, { status: 200, headers: { ...SSE_HEADERS, "x-request-id": ctx.ids.visible } }),
				limitHeaders,
			);
		}

		let bytes: Uint8Array<ArrayBuffer>;
		try {
			bytes = new Uint8Array(await up.response.arrayBuffer());
		} catch {
			throw new GatewayError("UPSTREAM_BAD_RESPONSE", "The upstream connection broke while sending the answer");
		} finally {
			up.release();
		}
		const mapped = plan.mapBody(bytes);
		record.finish(200, null, mapped.usage);
		admission?.settle(ev.total_tokens, ev.cost_usd);
		admission = null;
		return withHeaders(
			new Response(mapped.body, {
				status: 200,
				headers: {
					"content-type": up.response.headers.get("content-type") ?? "application/json",
					"x-request-id": ctx.ids.visible,
				},
			}),
			limitHeaders,
		);
	} catch (err) {
		const e = toGatewayError(err);
		if (ev.attempts === 0) ev.attempts = e.attempts;
		// the request line carries the code; what fetch or the handler threw goes beside it
		if (e.cause !== undefined)
			deps.logger.warn({ request_id: ctx.ids.visible, code: e.code, err: e.cause }, "request failed");
		record.finish(e.status, e.code, null);
		admission?.settle(0, 0);
		if (limitHeaders) Object.assign(e, { headers: { ...limitHeaders, ...e.headers } });
		throw e;
	}
}
