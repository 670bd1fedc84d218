import type { ErrorCode } from "../errors/codes.ts";
import { GatewayError } from "../errors/gateway-error.ts";
import type { AccountRef } from "../providers/account-ref.ts";
import type { ModelTarget } from "../providers/provider-registry.ts";
import type { AttemptSpan, AttemptTracer } from "../telemetry/request-trace.ts";
import type { AccountSelector, UnavailableReason } from "./account-selector.ts";
import { type Deadline, deadlines } from "./deadline-sweeper.ts";
import { readUpstreamBody } from "./read-upstream-body.ts";
import { retryAfterMs } from "./retry-after.ts";
import type { AttemptOutcome, UpstreamRequest } from "./types.ts";

/** What the loop needs of a target's plan: how to build one attempt's request for an account. */
export interface TargetPlan {
	build: (account: AccountRef) => UpstreamRequest;
}

/**
 * An account's `max_concurrency` held by the whole fleet (with Redis): a slot per attempt on
 * an account that has a limit, on top of this instance's own count.
 */
export interface AccountSlots {
	acquire(account: AccountRef): boolean | Promise<boolean>;
	release(account: AccountRef): void;
}

export interface FailoverRequest<P extends TargetPlan = TargetPlan> {
	selector: AccountSelector;
	/**
	 * Where the request may go, in order (never empty): one target for a plain model, a pool's
	 * providers or a model group's targets. Each target's accounts are walked before the next.
	 */
	targets: readonly ModelTarget[];
	/**
	 * The target's plan (the client's operation × the target's protocol), chosen when the loop
	 * first turns to it; a throw means the target cannot carry this request and is skipped.
	 */
	plan: (target: ModelTarget) => P;
	sessionKey?: string;
	/** Every attempt after the first counts, on whichever target. */
	maxSwitches: number;
	/** performance.now() by which every attempt, and the body that follows, must be done. */
	deadlineAt: number;
	firstByteTimeoutMs: number;
	/**
	 * True once the client has gone away. Read lazily: touching `request.signal` costs a few
	 * microseconds, so it is only polled for attempts that last (see CLIENT_WATCH_AFTER_MS).
	 */
	clientGone?: () => boolean;
	/** The request's trace (absent when tracing is off): a client span per attempt. */
	trace?: AttemptTracer;
	/** Fleet-wide account concurrency; absent without Redis. */
	accountSlots?: AccountSlots;
}

export interface FailoverSuccess<P extends TargetPlan = TargetPlan> {
	/** A 2xx upstream response whose body the caller now owns. */
	response: Response;
	/** The target that answered, and its plan (which maps the answer back). */
	target: ModelTarget;
	plan: P;
	account: AccountRef;
	attempts: number;
	/** Aborts the upstream body (client left). */
	abort: () => void;
	/**
	 * Ends the attempt: clears the overall deadline and frees the account's in-flight slot.
	 * Call exactly once, when the body has been consumed or abandoned.
	 */
	release: () => void;
}

type Failure = {
	code: ErrorCode;
	message: string;
	retryAfterMs: number | null;
	status?: number;
	/** What fetch threw, kept as the error's `cause` so the diagnosis survives into logs. */
	cause?: unknown;
};

const MAX_BACKOFF_MS = 1_000;
/** An error body is read for its message only; one larger than this is not an error reply. */
export const MAX_ERROR_BODY_BYTES = 64 * 1024;
const CLIENT_WATCH_AFTER_MS = 250;
const CLIENT_WATCH_EVERY_MS = 250;

/** Upstream status → what the attempt tells us about the account, and what the client would see. */
function classify(status: number, retryMs: number | null): { outcome: AttemptOutcome; failure: Failure } | null {
	if (status === 429) {
		return {
			outcome: { kind: "rate_limited", retryAfterMs: retryMs },
			failure: {
				code: "UPSTREAM_RATE_LIMITED",
				message: "The upstream is rate limiting",
				retryAfterMs: retryMs,
			},
		};
	}
	if (status === 401 || status === 403) {
		return {
			outcome: { kind: "auth_error", status },
			failure: {
				code: "UPSTREAM_AUTH_FAILED",
				message: "The upstream refused the gateway's credentials",
				retryAfterMs: null,
			},
		};
	}
	if (status === 529 || status === 503) {
		return {
			outcome: { kind: "server_error" },
			failure: {
				code: status === 529 ? "UPSTREAM_OVERLOADED" : "UPSTREAM_SERVER_ERROR",
				message: `The upstream answered ${status}`,
				retryAfterMs: retryMs,
			},
		};
	}
	if (status === 408 || status >= 500) {
		return {
			outcome: status === 408 || status === 504 ? { kind: "timeout" } : { kind: "server_error" },
			failure: {
				code: "UPSTREAM_SERVER_ERROR",
				message: `The upstream answered ${status}`,
				retryAfterMs: retryMs,
			},
		};
	}
	return null;
}

/** The human part of an upstream error body (OpenAI or Anthropic shaped), bounded. */
export function upstreamErrorMessage(text: string): string {
	try {
		const o = JSON.parse(text);
		const m = o?.error?.message ?? o?.message;
		if (typeof m === "string") return m.slice(0, 1000);
	} catch {
		// not JSON
	}
	return text.slice(0, 300) || "The upstream rejected the request";
}

function failureToError(f: Failure, attempts: number): GatewayError {
	const e = new GatewayError(f.code, f.message, {
		status: f.status,
		retryAfterSeconds: f.retryAfterMs === null ? undefined : Math.ceil(f.retryAfterMs / 1000),
		cause: f.cause,
	});
	e.attempts = attempts;
	return e;
}

const NONE: ReadonlySet<number> = new Set();

function pickAt(
	req: FailoverRequest<TargetPlan>,
	refused: readonly boolean[] | null,
	i: number,
	exclude: ReadonlySet<number>,
): AccountRef | null {
	if (refused?.[i]) return null;
	const target = req.targets[i];
	return req.selector.pick(target.provider, target.model, exclude, req.sessionKey);
}

/**
 * The gateway's one retry/failover loop. Tries the best account of the first target, and on
 * 429, 401/403, 5xx, 529, timeouts and connection errors moves to the next best, then to the
 * next target (a model group's or a pool's), up to `maxSwitches` switches in all, inside one
 * deadline. When every target's accounts were tried it backs off and lets a recovered one take
 * it, first target first. When no account is healthy it still tries the least bad one, once
 * per request (see AccountSelector.fallback). Runs only before the first byte reaches the
 * client: once it returns, the response is committed. A client-caused 4xx is returned as a
 * GatewayError carrying the upstream's message and status, without failover and without
 * blaming the account.
 */
export async function callWithFailover<P extends TargetPlan>(req: FailoverRequest<P>): Promise<FailoverSuccess<P>> {
	const targets = req.targets;
	const n = targets.length;
	let last: Failure | null = null;
	const maxAttempts = 1 + req.maxSwitches;
	// the target being tried, its plan and the accounts of it tried so far (health is per
	// account and model, so an account tried for one target is still a candidate for another)
	let t = 0;
	let plan: P | null = null;
	let tried: Set<number> = new Set();
	/** What the first target that cannot carry the request threw; the targets marked are skipped. */
	let refusal: unknown = null;
	let refused: boolean[] | null = null;
	/** Turns to target i: its plan, no account tried yet. False when it cannot carry the request. */
	const enter = (i: number): boolean => {
		t = i;
		tried = new Set();
		try {
			plan = req.plan(targets[i]);
			return true;
		} catch (err) {
			refusal ??= err;
			refused ??= [];
			refused[i] = true;
			plan = null;
			return false;
		}
	};

	// the first target's plan, as proxy-request chose it before the loop existed for several:
	// a request no target can carry fails here, before any account is picked
	if (!enter(0) && n === 1) throw refusal;
	let attemptsMade = 0;
	let panicked = false;
	for (let attempt = 1; attempt <= maxAttempts; attempt++) {
		if (attempt > 1 && req.clientGone?.())
			throw new GatewayError("CLIENT_CLOSED_REQUEST", "The client closed the request");
		let account = pickAt(req, refused, t, tried);
		// this target has no untried account: the next target, before any backoff
		while (!account && t + 1 < n) account = enter(t + 1) ? pickAt(req, refused, t, tried) : null;
		if (!account && last && last.code !== "UPSTREAM_AUTH_FAILED") {
			// every account was tried once: back off with jitter, then let a recovered one take it
			const wait = Math.min(MAX_BACKOFF_MS, 100 * 2 ** (attempt - 2)) * (0.75 + Math.random() * 0.25);
			if (performance.now() + wait >= req.deadlineAt) break;
			await Bun.sleep(wait);
			for (let i = 0; i < n && !account; i++) {
				const found = pickAt(req, refused, i, NONE);
				if (found && (i === t || enter(i))) account = found;
			}
		}
		if (!account && !panicked) {
			// every candidate is ejected or cooling: try the least bad one once rather than go
			// dark (an upstream's own retry-after is still honoured: that one answers 429)
			for (let i = 0; i < n && !account; i++) {
				if (refused?.[i]) continue;
				const found = req.selector.fallback(targets[i].provider, targets[i].model, i === t ? tried : NONE);
				if (found && (i === t || enter(i))) account = found;
			}
			panicked = account !== null;
		}
		if (!account || !plan) break;
		tried.add(account.slot);
		const slots = account.maxConcurrency > 0 ? req.accountSlots : undefined;
		if (slots) {
			const granted = slots.acquire(account);
			if (!(granted instanceof Promise ? await granted : granted)) {
				// at its concurrency limit across the fleet: saturated, as if here; nothing was sent
				attempt--;
				continue;
			}
		}
		attemptsMade = attempt;

		const span = req.trace?.attempt(targets[t].provider, account.name, targets[t].model);
		const result = await attemptOnce(req, targets[t], plan, account, span);
		span?.end("response" in result ? null : result.failure);
		if ("response" in result) {
			if (!slots) return { ...result, attempts: attempt };
			const release = result.release;
			const held = account;
			let released = false;
			return {
				...result,
				attempts: attempt,
				release: () => {
					if (released) return;
					released = true;
					release();
					slots.release(held);
				},
			};
		}
		slots?.release(account);
		last = result.failure;
		if (result.final) throw failureToError(result.failure, attempt);
		if (performance.now() >= req.deadlineAt) break;
	}

	if (last) throw failureToError(last, attemptsMade);
	if (refusal) throw refusal;
	const first = targets[0];
	const why = req.selector.unavailable(first.provider, first.model);
	if (why.reason === "cooling_down" && why.retryAfterMs !== null) {
		throw failureToError(
			{
				code: "UPSTREAM_RATE_LIMITED",
				message: "Every upstream account is cooling down",
				retryAfterMs: why.retryAfterMs,
			},
			0,
		);
	}
	throw new GatewayError("UPSTREAM_NO_ACCOUNT", NO_ACCOUNT_MESSAGES[why.reason](first.provider.name), {
		// ejected accounts get a probe when their ejection lapses: tell the client when
		retryAfterSeconds: why.retryAfterMs === null ? undefined : Math.max(1, Math.ceil(why.retryAfterMs / 1000)),
	});
}

const NO_ACCOUNT_MESSAGES: Record<UnavailableReason, (provider: string) => string> = {
	no_account: (p) => `No upstream account of provider '${p}' serves this model`,
	cooling_down: (p) => `Every upstream account of provider '${p}' is cooling down`,
	saturated: (p) => `Every upstream account of provider '${p}' is at its concurrency limit`,
	ejected: (p) => `Every upstream account of provider '${p}' is failing; retry shortly`,
	disabled: (p) => `Every upstream account of provider '${p}' was refused by the upstream (credentials)`,
};

const TARGET_REFUSED: Failure = {
	code: "UPSTREAM_CONNECTION_FAILED",
	message: "The upstream's address is refused (private, loopback or link-local)",
	retryAfterMs: null,
};

type AttemptResult<P extends TargetPlan> = Omit<FailoverSuccess<P>, "attempts"> | { failure: Failure; final: boolean };

async function attemptOnce<P extends TargetPlan>(
	req: FailoverRequest<P>,
	target: ModelTarget,
	plan: P,
	account: AccountRef,
	span?: AttemptSpan,
): Promise<AttemptResult<P>> {
	const controller = new AbortController();
	let timedOut = false;
	let clientLeft = false;
	const started = performance.now();
	// one deadline entry per attempt: first the first-byte limit, then the overall deadline
	const deadline = deadlines.add(Math.min(started + req.firstByteTimeoutMs, req.deadlineAt), () => {
		timedOut = true;
		controller.abort();
	});
	// an attempt that lasts is checked for a departed client now and then, so an abandoned
	// request stops costing upstream tokens; quick attempts never pay for the check
	let watch: Deadline | null = null;
	const clientGone = req.clientGone;
	if (clientGone) {
		const check = () => {
			if (clientGone()) {
				clientLeft = true;
				controller.abort();
			} else watch = deadlines.add(performance.now() + CLIENT_WATCH_EVERY_MS, check);
		};
		watch = deadlines.add(started + CLIENT_WATCH_AFTER_MS, check);
	}

	const { url, headers, body } = plan.build(account);
	span?.inject(headers);
	const refused = target.provider.targetGuard?.check(url);
	if (refused) {
		try {
			await refused;
		} catch {
			deadlines.remove(deadline);
			if (watch) deadlines.remove(watch);
			return { failure: TARGET_REFUSED, final: false };
		}
	}
	req.selector.acquire(account);
	let released = false;
	const release = () => {
		if (released) return;
		released = true;
		deadlines.remove(deadline);
		if (watch) deadlines.remove(watch);
		req.selector.release(account);
	};

	let res: Response;
	try {
		res = await fetch(url, {
			method: "POST",
			headers,
			body,
			signal: controller.signal,
			// a redirect would carry the account's key to another host, past the address checks
			redirect: "manual",
		});
	} catch (cause) {
		release();
		if (clientLeft) {
			return {
				failure: {
					code: "CLIENT_CLOSED_REQUEST",
					message: "The client closed the request",
					retryAfterMs: null,
				},
				final: true,
			};
		}
		const kind = timedOut ? "timeout" : "connection_error";
		req.selector.report(account, target.model, { kind });
		return {
			failure: timedOut
				? {
						code: "UPSTREAM_TIMEOUT",
						message: "The upstream did not answer in time",
						retryAfterMs: null,
						cause,
					}
				: {
						code: "UPSTREAM_CONNECTION_FAILED",
						message: "Could not connect to the upstream",
						retryAfterMs: null,
						cause,
					},
			final: false,
		};
	}
	span?.answered(res.status);
	if (res.ok) {
		req.selector.report(account, target.model, {
			kind: "success",
			ttftMs: performance.now() - started,
		});
		deadline.at = req.deadlineAt;
		deadline.onExpire = () => controller.abort();
		return { response: res, target, plan, account, abort: () => controller.abort(), release };
	}

	// the first-byte timer stays armed while the error body is read: a stalled body aborts
	const bytes = await readUpstreamBody(res, MAX_ERROR_BODY_BYTES).catch(() => new Uint8Array(0));
	release();
	if (bytes === null || (res.status >= 300 && res.status < 400)) {
		req.selector.report(account, target.model, { kind: "server_error" });
		return {
			failure: {
				code: "UPSTREAM_BAD_RESPONSE",
				message:
					bytes === null
						? `The upstream's error answer exceeds ${MAX_ERROR_BODY_BYTES} bytes`
						: `The upstream answered ${res.status} (a redirect, which the gateway does not follow)`,
				retryAfterMs: null,
			},
			final: false,
		};
	}
	const text = new TextDecoder().decode(bytes);
	const c = classify(res.status, retryAfterMs(res.headers));
	if (c) {
		req.selector.report(account, target.model, c.outcome);
		return { failure: c.failure, final: false };
	}
	// the client's own mistake: pass the upstream's words on, keep the account's record clean
	req.selector.report(account, target.model, { kind: "client_error" });
	return {
		failure: {
			code: "UPSTREAM_INVALID_REQUEST",
			message: upstreamErrorMessage(text),
			retryAfterMs: null,
			status: res.status >= 400 && res.status < 500 ? res.status : 502,
		},
		final: true,
	};
}
