import { tenantLimitsOf } from "../auth/key-store.ts";
import type { KeyLimits, Principal } from "../auth/principal.ts";
import type { GatewayConfig } from "../config/types.ts";
import type { ErrorCode } from "../errors/codes.ts";
import { GatewayError } from "../errors/gateway-error.ts";
import type { Operation } from "../protocols/operations.ts";
import type { PriceBook } from "../usage/cost.ts";
import type { Admission, Admit, AdmitContext } from "./admit.ts";
import type { FleetGate, FleetHold, FleetRefusal } from "./fleet-gate.ts";
import type { CostEstimate, LimitDecision, Limiter, LimitTicket } from "./limiter.ts";
import type { HeaderRecord } from "./rate-limit-headers.ts";
import { TokenBucket } from "./token-bucket.ts";

/**
 * `deps.admit`: the per-key and per-tenant limits, checked after auth and the model allowlist
 * and before any upstream call, in the order RPM → TPM → concurrency → daily requests → daily
 * tokens → budget (the Limiter's order), first for the key (`key:<id>`), then its tenant
 * (`tenant:<id>`). Whatever the key's check took is given back if the tenant refuses.
 *
 * TPM, daily tokens and budget reserve the most the request can use, so concurrent requests
 * cannot outrun a limit, and settle to the real usage when the request ends:
 *   tokens = ceil(body bytes / 4) + n × cap, where cap is the request's max_tokens |
 *            max_completion_tokens | max_output_tokens, else the model's maximum output from the
 *            price catalog (at most `limits.max_output_ceiling`), else
 *            `limits.default_max_output_tokens`; 0 for embeddings, token counting and moderations
 *   usd    = the model's price for that many prompt and completion tokens.
 * A reservation above a whole limit is cut to that limit (daily-counters.ts). The resulting
 * bound on overshoot is in the README ("Limits and budgets").
 *
 * A model with no price on a key or tenant with a budget is refused (PLATFORM_MODEL_UNPRICED)
 * unless `limits.refuse_unpriced_with_budget` is off; then it reserves and settles $0.
 *
 * Synchronous unless a subject has `max_concurrency` (then it may wait a little in the queue).
 */

const COMPLETION_FIELDS = ["max_tokens", "max_completion_tokens", "max_output_tokens"] as const;
const NO_COMPLETION: ReadonlySet<Operation> = new Set(["embeddings", "count_tokens", "moderations"]);

export interface AdmissionOptions {
	limiter: Limiter;
	prices: Pick<PriceBook, "costUsd" | "maxOutputTokens">;
	/** `[limits]` of the config: output caps for requests without one, unpriced models. */
	limits: GatewayConfig["limits"];
	/** How long a request may wait for a concurrency place before its 429. Default 1 s. */
	concurrencyWaitMs?: number;
	/** Requests allowed to wait per subject (all workers). Default: the limiter's (32). */
	maxQueue?: number;
	/** With Redis: the same limits, held by the whole fleet (checked after this instance's). */
	fleet?: FleetGate;
	now?: () => number;
}

export interface LimitAdmission extends Admission {
	readonly headers: HeaderRecord;
}

/**
 * The most a request can use: its prompt estimate and `n` answers of its output cap, or of
 * `uncappedOutput` when it sets none.
 */
export function estimateUsage(
	op: Operation,
	body: Record<string, unknown>,
	bodyBytes: number,
	uncappedOutput: number,
): { prompt: number; completion: number } {
	const prompt = Math.ceil(Math.max(0, bodyBytes) / 4);
	if (NO_COMPLETION.has(op)) return { prompt, completion: 0 };
	let cap = uncappedOutput;
	for (const f of COMPLETION_FIELDS) {
		const v = body[f];
		if (typeof v === "number" && Number.isFinite(v) && v >= 0) {
			cap = Math.ceil(v);
			break;
		}
	}
	const n = typeof body.n === "number" && Number.isInteger(body.n) && body.n > 1 ? body.n : 1;
	return { prompt, completion: n * cap };
}

interface Subject {
	key: string;
	limits: KeyLimits;
}

interface Taken {
	ticket: LimitTicket;
	limits: KeyLimits;
}

const NO_LIMITS: LimitAdmission = { headers: {}, settle() {} };
const NO_HOLDS: readonly FleetHold[] = [];

/** Undo of a reservation: `requests: 0` also gives back the daily request count. */
const UNDO = { tokens: 0, usd: 0, requests: 0 };

export function createAdmission(opts: AdmissionOptions): Admit {
	const { limiter, prices, limits } = opts;
	const uncappedOutput = (model: string) =>
		Math.min(prices.maxOutputTokens(model) ?? limits.default_max_output_tokens, limits.max_output_ceiling);
	const now = opts.now ?? Date.now;
	const waitMs = opts.concurrencyWaitMs ?? 1_000;
	const rpmBucket = new TokenBucket(limiter.table, "rpm");

	const undo = (taken: Taken[]) => {
		for (const t of taken) {
			limiter.settle(t.ticket, UNDO as CostEstimate);
			limiter.release(t.ticket);
			if (t.limits.rpm != null && t.ticket.slot >= 0) rpmBucket.giveBack(t.ticket.slot, 1);
		}
	};

	const admitted = (taken: Taken[], headers: HeaderRecord, holds: readonly FleetHold[] = NO_HOLDS): LimitAdmission => {
		// limiter.release frees a ticket's place once, however often it is called (so do holds)
		const release = () => {
			for (const t of taken) limiter.release(t.ticket);
			for (const h of holds) h.release();
		};
		return {
			headers,
			release,
			settle(tokens, usd) {
				for (const t of taken) limiter.settle(t.ticket, { tokens, usd });
				for (const h of holds) h.settle({ tokens, usd });
				release();
			},
		};
	};

	/** The fleet's turn, once this instance admitted every subject. */
	const admittedByFleet = (
		subjects: Subject[],
		estimate: CostEstimate,
		taken: Taken[],
		headers: HeaderRecord,
	): LimitAdmission | Promise<LimitAdmission> => {
		const fleet = opts.fleet;
		if (!fleet) return admitted(taken, headers);
		const holds: FleetHold[] = [];
		const refused = (r: FleetRefusal, s: Subject): never => {
			for (const h of holds) h.undo();
			undo(taken);
			throw refusalError(r, s, headers);
		};
		const next = (i: number): LimitAdmission | Promise<LimitAdmission> => {
			for (; i < subjects.length; i++) {
				const s = subjects[i] as Subject;
				const r = fleet.take(s.key, s.limits, estimate);
				if (r instanceof Promise) {
					const at = i;
					return r.then((d) => {
						if (!d.ok) return refused(d, s);
						holds.push(d);
						return next(at + 1);
					});
				}
				if (!r.ok) refused(r, s);
				else holds.push(r);
			}
			return admitted(taken, headers, holds);
		};
		return next(0);
	};

	const onDecision = (d: LimitDecision, s: Subject, taken: Taken[], headers: HeaderRecord): void => {
		mergeHeaders(headers, d.headers);
		if (d.ok) {
			taken.push({ ticket: d.ticket, limits: s.limits });
			return;
		}
		undo(taken);
		throw refusalError(d, s, headers);
	};

	return (
		principal: Principal,
		op: Operation,
		body: Record<string, unknown>,
		bodyBytes: number,
		ctx?: AdmitContext,
	) => {
		const subjects = subjectsOf(principal);
		if (subjects.length === 0) return NO_LIMITS;
		const model = ctx?.model ?? (typeof body.model === "string" ? body.model : "");
		const usage = estimateUsage(op, body, bodyBytes, uncappedOutput(model));
		const usd = prices.costUsd(model, {
			prompt_tokens: usage.prompt,
			completion_tokens: usage.completion,
			cached_tokens: 0,
			cache_write_tokens: 0,
			reasoning_tokens: 0,
			total_tokens: usage.prompt + usage.completion,
		});
		if (usd === null && limits.refuse_unpriced_with_budget) refuseUnpriced(subjects, model);
		const estimate: CostEstimate = { tokens: usage.prompt + usage.completion, usd: usd ?? 0 };
		const taken: Taken[] = [];
		const headers: HeaderRecord = {};
		// synchronous unless a subject at its concurrency limit has to wait for a place
		for (let i = 0; i < subjects.length; i++) {
			const d = decide(subjects[i], estimate, ctx);
			if (d instanceof Promise) return admitRest(d, i, subjects, estimate, ctx, taken, headers);
			onDecision(d, subjects[i], taken, headers);
		}
		return admittedByFleet(subjects, estimate, taken, headers);
	};

	function decide(s: Subject, estimate: CostEstimate, ctx: AdmitContext | undefined) {
		return limiter.checkOrWait(
			s.key,
			s.limits,
			estimate,
			{ waitMs, signal: ctx?.signal, maxQueue: opts.maxQueue },
			now(),
		);
	}

	/** The rest of an admission once subject `i` had to wait for a concurrency place. */
	async function admitRest(
		waiting: Promise<LimitDecision>,
		i: number,
		subjects: Subject[],
		estimate: CostEstimate,
		ctx: AdmitContext | undefined,
		taken: Taken[],
		headers: HeaderRecord,
	): Promise<LimitAdmission> {
		onDecision(await waiting, subjects[i], taken, headers);
		for (let j = i + 1; j < subjects.length; j++) {
			onDecision(await decide(subjects[j], estimate, ctx), subjects[j], taken, headers);
		}
		return admittedByFleet(subjects, estimate, taken, headers);
	}
}

/** A budget cannot hold a model whose cost is unknown: refuse rather than let it do nothing. */
function refuseUnpriced(subjects: readonly Subject[], model: string): void {
	const budgeted = subjects.find((s) => s.limits.budget_usd != null);
	if (!budgeted) return;
	const who = budgeted.key.startsWith("tenant:") ? "this key's tenant" : "this key";
	throw new GatewayError(
		"PLATFORM_MODEL_UNPRICED",
		`The model '${model}' has no price, and ${who} has a budget; an administrator can add one with PUT /admin/prices/{model}`,
		{ param: "model" },
	);
}

/** Principals are cached objects (one per key until its cache entry is refreshed): so are their subjects. */
const subjectsCache = new WeakMap<Principal, Subject[]>();

function subjectsOf(p: Principal): Subject[] {
	let out = subjectsCache.get(p);
	if (!out) {
		out = listSubjects(p);
		subjectsCache.set(p, out);
	}
	return out;
}

function listSubjects(p: Principal): Subject[] {
	const out: Subject[] = [];
	// Only subjects with a limit are counted: an unlimited key or tenant costs nothing here.
	// One that gains a daily quota or budget later is seeded from request_logs when the
	// change arrives (restoreUsage), so its earlier usage still counts.
	// a principal without a key id is the static keys' shared one: one subject for all of them
	if (p.limits) out.push({ key: p.keyId ? `key:${p.keyId}` : "static-keys", limits: p.limits });
	const t = tenantLimitsOf(p);
	if (p.tenantId && t) out.push({ key: `tenant:${p.tenantId}`, limits: t });
	return out;
}

const HEADER_KINDS = [
	["x-ratelimit-limit-requests", "x-ratelimit-remaining-requests", "x-ratelimit-reset-requests"],
	["x-ratelimit-limit-tokens", "x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens"],
] as const;

/** Keeps, per kind (requests, tokens), the headers of the subject with the least remaining. */
function mergeHeaders(into: HeaderRecord, add: HeaderRecord): void {
	for (const [limit, rem, reset] of HEADER_KINDS) {
		const r = add[rem];
		if (r === undefined) continue;
		if (into[rem] !== undefined && Number(into[rem]) <= Number(r)) continue;
		into[rem] = r;
		if (add[limit] !== undefined) into[limit] = add[limit];
		if (add[reset] !== undefined) into[reset] = add[reset];
	}
}

function refusalError(
	d: Extract<LimitDecision, { ok: false }> | FleetRefusal,
	s: Subject,
	headers: HeaderRecord,
): GatewayError {
	const who = s.key.startsWith("tenant:") ? "this key's tenant" : "this key";
	let code: ErrorCode;
	let message: string;
	switch (d.reason) {
		case "rpm":
		case "tpm":
			code = d.retryable ? "PLATFORM_RATE_LIMITED" : "PLATFORM_QUOTA_EXCEEDED";
			message = `Rate limit reached for ${d.reason === "rpm" ? "requests" : "tokens"} per minute on ${who} (${d.reason}: ${s.limits[d.reason]})`;
			break;
		case "concurrency":
			code = d.retryable ? "PLATFORM_CONCURRENCY_LIMITED" : "PLATFORM_QUOTA_EXCEEDED";
			message = `Too many concurrent requests on ${who} (max_concurrency: ${s.limits.max_concurrency})`;
			break;
		case "daily_requests":
			code = "PLATFORM_QUOTA_EXCEEDED";
			message = `Daily request quota exhausted on ${who} (quota_daily_requests: ${s.limits.quota_daily_requests})`;
			break;
		case "daily_tokens":
			code = "PLATFORM_QUOTA_EXCEEDED";
			message = `Daily token quota exhausted on ${who} (quota_daily_tokens: ${s.limits.quota_daily_tokens})`;
			break;
		default:
			code = "PLATFORM_BUDGET_EXCEEDED";
			message = `Budget exhausted on ${who} (budget_usd: ${s.limits.budget_usd} per ${s.limits.budget_period ?? "all time"})`;
	}
	return new GatewayError(code, message, {
		headers: { ...headers },
		retryAfterSeconds: d.retryAfterMs > 0 ? d.retryAfterMs / 1000 : undefined,
	});
}
