/**
 * A local LLM upstream speaking OpenAI and Anthropic wire formats, for end-to-end tests and
 * the benchmark. Behaviour is chosen per request by words in the API key (see behavior.ts):
 * `fail503`, `fail429`, `fail401`, `fail500` (any `fail<status>`), `slow<ms>`, `break<n>`,
 * `stall`, `drip<ms>`, `midError`; or globally with `setBehavior`. `failModel` makes one
 * model answer an error status whatever the key.
 */
import type { Server } from "bun";
import { anthropicError, anthropicModelList, countTokens, messages } from "./mock-upstream/anthropic.ts";
import { isPlain, type MockBehavior, mergeBehavior, parseBehavior } from "./mock-upstream/behavior.ts";
import {
	imageGeneration,
	imageUpload,
	moderation,
	speech,
	transcription,
	type UploadedFile,
} from "./mock-upstream/media.ts";
import {
	chatCompletion,
	embeddings,
	modelList,
	openaiError,
	responses,
	textCompletion,
} from "./mock-upstream/openai.ts";
import { type Reply, type ReplyContext, withFractionalUsage } from "./mock-upstream/reply.ts";
import { playFrames } from "./mock-upstream/sse-stream.ts";
import { type WaitForOptions, waitFor } from "./wait-for.ts";

export type { MockBehavior } from "./mock-upstream/behavior.ts";
export { parseBehavior } from "./mock-upstream/behavior.ts";
export { IMAGE_OUTPUT_TOKENS, speechBytes, type UploadedFile } from "./mock-upstream/media.ts";
export {
	buildAnswer,
	countWords,
	promptTokensFor,
} from "./mock-upstream/text.ts";

export interface MockUpstreamOptions {
	/** Default 0: a free port. */
	port?: number;
	/** Words in a chat answer when the request sets no `max_tokens` (default 12, or the echo's length). */
	answerWords?: number;
	/** Vector size when the request gives no `dimensions` (default 8). */
	embeddingDims?: number;
	/** Ids served by GET /v1/models. */
	models?: string[];
	/**
	 * Benchmark mode: plain replies are cached as ready bytes per (path, key, body), and a
	 * plain stream goes out as one buffer; requests are only counted, not recorded.
	 */
	fast?: boolean;
	/** Keep `requests` (default: true, false in fast mode). */
	record?: boolean;
	/** Global behaviour, as with `setBehavior`. */
	behavior?: MockBehavior | string;
}

export interface RecordedRequest {
	method: string;
	path: string;
	/** Header names lowercased. */
	headers: Record<string, string>;
	/** Parsed JSON body, or a multipart form's fields (files as UploadedFile), or null. */
	body: Record<string, unknown> | null;
	/** A multipart request's Content-Type as received (boundary included); null otherwise. */
	formContentType: string | null;
	rawBody: string;
	/** Bearer token or x-api-key, "" when none. */
	apiKey: string;
	/** Date.now() on arrival. */
	at: number;
}

export interface MockUpstream {
	/** `http://127.0.0.1:PORT`, without /v1. */
	readonly url: string;
	readonly port: number;
	readonly requests: RecordedRequest[];
	/** Streams being sent right now. */
	readonly activeStreams: number;
	/** Streams whose client went away before the end. */
	readonly cancelledStreams: number;
	/** Streams that reached their end (including break/midError endings). */
	readonly completedStreams: number;
	/** Requests seen (recorded or not). */
	readonly requestCount: number;
	countByKey(apiKey: string): number;
	countByPath(path: string): number;
	/** Most requests of this key the mock was answering at once (until each answer's headers). */
	peakInFlight(apiKey: string): number;
	setBehavior(b: MockBehavior | string | null): void;
	/** Requests for `model` answer `status` (null: served again). */
	failModel(model: string, status: number | null): void;
	waitFor(predicate: () => boolean, timeoutMs?: number, what?: string): Promise<void>;
	reset(): void;
	stop(): Promise<void>;
}

interface CachedReply {
	status: number;
	headers: Record<string, string>;
	bytes: Uint8Array<ArrayBuffer>;
}

const CACHE_LIMIT = 1_000;
const encoder = new TextEncoder();

function apiKeyOf(req: Request): string {
	const xKey = req.headers.get("x-api-key");
	if (xKey) return xKey;
	const auth = req.headers.get("authorization");
	return auth?.startsWith("Bearer ") ? auth.slice(7).trim() : "";
}

function isAnthropicPath(path: string): boolean {
	return path === "/v1/messages" || path === "/v1/messages/count_tokens";
}

function parseJson(raw: string): Record<string, unknown> | null {
	if (raw === "") return null;
	try {
		const v = JSON.parse(raw);
		return typeof v === "object" && v !== null && !Array.isArray(v) ? v : null;
	} catch {
		return null;
	}
}

/** A multipart form's fields; files are recorded by name, type, size and SHA-256, not kept. */
async function formFields(req: Request): Promise<Record<string, unknown>> {
	const out: Record<string, unknown> = {};
	for (const [name, value] of await req.formData()) {
		if (typeof value === "string") {
			out[name] = value;
			continue;
		}
		const bytes = new Uint8Array(await value.arrayBuffer());
		const file: UploadedFile = {
			filename: value.name,
			type: value.type,
			size: bytes.byteLength,
			sha256: new Bun.CryptoHasher("sha256").update(bytes).digest("hex"),
		};
		out[name] = file;
	}
	return out;
}

function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
	return new Promise((resolve) => {
		const timer = setTimeout(resolve, ms);
		signal.addEventListener(
			"abort",
			() => {
				clearTimeout(timer);
				resolve();
			},
			{ once: true },
		);
	});
}

export async function startMockUpstream(opts: MockUpstreamOptions = {}): Promise<MockUpstream> {
	const fast = opts.fast ?? false;
	const record = opts.record ?? !fast;
	const embeddingDims = opts.embeddingDims ?? 8;
	const models = opts.models ?? ["gpt-4o-mini", "gpt-4o", "text-embedding-3-small", "claude-3-5-haiku-latest"];
	const toBehavior = (b: MockBehavior | string | null | undefined): MockBehavior =>
		typeof b === "string" ? parseBehavior(b) : (b ?? {});

	let globalBehavior = toBehavior(opts.behavior);
	let requests: RecordedRequest[] = [];
	let byKey = new Map<string, number>();
	let byPath = new Map<string, number>();
	let requestCount = 0;
	let seq = 0;
	let activeStreams = 0;
	let cancelledStreams = 0;
	let completedStreams = 0;
	const cache = new Map<string, CachedReply>();
	const behaviorByKey = new Map<string, MockBehavior>();
	const failingModels = new Map<string, number>();

	const behaviorFor = (key: string): MockBehavior => {
		let b = behaviorByKey.get(key);
		if (!b) {
			b = parseBehavior(key);
			if (behaviorByKey.size < CACHE_LIMIT) behaviorByKey.set(key, b);
		}
		return mergeBehavior(globalBehavior, b);
	};

	const hooks = {
		onStart() {
			activeStreams++;
		},
		onEnd(cancelled: boolean) {
			activeStreams--;
			if (cancelled) cancelledStreams++;
			else completedStreams++;
		},
	};

	function route(method: string, path: string, body: Record<string, unknown>, raw: string, req: Request): Reply {
		const ctx: ReplyContext = {
			seq: ++seq,
			nowSeconds: Math.floor(Date.now() / 1000),
			embeddingDims,
			models,
			answerWords: opts.answerWords,
		};
		if (method === "GET" && path === "/v1/models") {
			return req.headers.has("anthropic-version") ? anthropicModelList(ctx) : modelList(ctx);
		}
		if (method !== "POST") return openaiError(404, `mock: no route ${method} ${path}`);
		switch (path) {
			case "/v1/chat/completions":
				return chatCompletion(body, ctx);
			case "/v1/completions":
				return textCompletion(body, ctx);
			case "/v1/embeddings":
				return embeddings(body, ctx);
			case "/v1/responses":
				return responses(body, ctx);
			case "/v1/messages":
				return messages(body, raw, ctx);
			case "/v1/messages/count_tokens":
				return countTokens(body);
			case "/v1/images/generations":
				return imageGeneration(body, ctx);
			case "/v1/images/edits":
			case "/v1/images/variations":
				return imageUpload(body, ctx);
			case "/v1/audio/speech":
				return speech(body);
			case "/v1/audio/transcriptions":
				return transcription(body, false);
			case "/v1/audio/translations":
				return transcription(body, true);
			case "/v1/moderations":
				return moderation(body, ctx);
			default:
				return openaiError(404, `mock: no route ${method} ${path}`);
		}
	}

	function authError(path: string, req: Request, apiKey: string): Reply | null {
		if (isAnthropicPath(path)) {
			// The installed @anthropic-ai/sdk sends the key as `Authorization: Bearer`, older ones as x-api-key.
			if (apiKey === "") return anthropicError(401, "x-api-key header is required");
			if (!req.headers.get("anthropic-version")) return anthropicError(401, "anthropic-version header is required");
			return null;
		}
		if (apiKey === "") return openaiError(401, "mock: missing bearer token");
		return null;
	}

	function toResponse(reply: Reply, b: MockBehavior, signal: AbortSignal, requestId: string): Response {
		if (reply.kind === "bytes" || reply.kind === "text") {
			const body = reply.kind === "bytes" ? reply.bytes : reply.text;
			return new Response(body, { headers: { "content-type": reply.contentType, "x-request-id": requestId } });
		}
		if (reply.kind === "json") {
			return new Response(JSON.stringify(reply.body), {
				status: reply.status,
				headers: {
					"content-type": "application/json",
					"x-request-id": requestId,
					...reply.headers,
				},
			});
		}
		const stream = playFrames(reply.frames, reply.midErrorFrame, b, signal, hooks);
		return new Response(stream, {
			headers: {
				"content-type": "text/event-stream; charset=utf-8",
				"cache-control": "no-cache",
				"x-request-id": requestId,
			},
		});
	}

	function encodeOnce(reply: Reply, requestId: string): CachedReply {
		if (reply.kind === "bytes" || reply.kind === "text") {
			const bytes = reply.kind === "bytes" ? reply.bytes : encoder.encode(reply.text);
			return {
				status: 200,
				headers: { "content-type": reply.contentType, "x-request-id": requestId },
				bytes: new Uint8Array(bytes),
			};
		}
		if (reply.kind === "json") {
			return {
				status: reply.status,
				headers: {
					"content-type": "application/json",
					"x-request-id": requestId,
					...reply.headers,
				},
				bytes: encoder.encode(JSON.stringify(reply.body)),
			};
		}
		return {
			status: 200,
			headers: {
				"content-type": "text/event-stream; charset=utf-8",
				"cache-control": "no-cache",
				"x-request-id": requestId,
			},
			bytes: encoder.encode(reply.frames.map((f) => f.text).join("")),
		};
	}

	const inFlight = new Map<string, number>();
	const peaks = new Map<string, number>();
	async function handle(req: Request): Promise<Response> {
		const key = apiKeyOf(req);
		const now = (inFlight.get(key) ?? 0) + 1;
		inFlight.set(key, now);
		if (now > (peaks.get(key) ?? 0)) peaks.set(key, now);
		try {
			return await answer(req);
		} finally {
			inFlight.set(key, (inFlight.get(key) ?? 1) - 1);
		}
	}

	async function answer(req: Request): Promise<Response> {
		const url = new URL(req.url);
		const path = url.pathname;
		const contentType = req.headers.get("content-type") ?? "";
		const isForm = req.method === "POST" && contentType.startsWith("multipart/form-data");
		const raw = req.method === "POST" && !isForm ? await req.text() : "";
		const apiKey = apiKeyOf(req);
		requestCount++;
		byKey.set(apiKey, (byKey.get(apiKey) ?? 0) + 1);
		byPath.set(path, (byPath.get(path) ?? 0) + 1);
		const b = behaviorFor(apiKey);

		const cacheKey = fast && isPlain(b) ? `${req.method} ${path}\n${apiKey}\n${raw}` : null;
		if (cacheKey !== null && !record) {
			const hit = cache.get(cacheKey);
			if (hit)
				return new Response(hit.bytes, {
					status: hit.status,
					headers: hit.headers,
				});
		}

		const body = isForm ? await formFields(req).catch(() => null) : parseJson(raw);
		if (record) {
			const headers: Record<string, string> = {};
			req.headers.forEach((v, k) => {
				headers[k.toLowerCase()] = v;
			});
			requests.push({
				method: req.method,
				path,
				headers,
				body,
				formContentType: isForm ? contentType : null,
				rawBody: raw,
				apiKey,
				at: Date.now(),
			});
		}
		const requestId = `req_mock_${seq + 1}`;
		const anthropic = isAnthropicPath(path);

		const denied = authError(path, req, apiKey);
		if (denied) return toResponse(denied, b, req.signal, requestId);
		if (b.slowMs) await sleepUnlessAborted(b.slowMs, req.signal);
		if (b.failStatus !== undefined) {
			const message = `mock: forced ${b.failStatus} for key ${apiKey}`;
			const reply = anthropic ? anthropicError(b.failStatus, message) : openaiError(b.failStatus, message);
			return toResponse(reply, b, req.signal, requestId);
		}
		const modelFailure = typeof body?.model === "string" ? failingModels.get(body.model) : undefined;
		if (modelFailure !== undefined) {
			const message = `mock: model ${body?.model} forced to ${modelFailure}`;
			const reply = anthropic ? anthropicError(modelFailure, message) : openaiError(modelFailure, message);
			return toResponse(reply, b, req.signal, requestId);
		}
		if (req.method === "POST" && body === null) {
			const reply = anthropic
				? anthropicError(400, "body must be a JSON object")
				: openaiError(400, isForm ? "body must be a valid multipart form" : "body must be a JSON object");
			return toResponse(reply, b, req.signal, requestId);
		}

		const routed = route(req.method, path, body ?? {}, raw, req);
		const reply = b.fracUsage ? withFractionalUsage(routed) : routed;
		if (cacheKey !== null) {
			const encoded = encodeOnce(reply, requestId);
			if (cache.size >= CACHE_LIMIT) cache.clear();
			cache.set(cacheKey, encoded);
			return new Response(encoded.bytes, {
				status: encoded.status,
				headers: encoded.headers,
			});
		}
		return toResponse(reply, b, req.signal, requestId);
	}

	const server: Server<undefined> = Bun.serve({
		hostname: "127.0.0.1",
		port: opts.port ?? 0,
		// Stalled and dripping streams must stay open as long as the test wants.
		idleTimeout: 0,
		fetch: handle,
		error(err) {
			return new Response(
				JSON.stringify({
					error: { message: `mock: ${err.message}`, type: "server_error" },
				}),
				{
					status: 500,
					headers: { "content-type": "application/json" },
				},
			);
		},
	});
	const url = `http://127.0.0.1:${server.port}`;

	return {
		url,
		port: server.port ?? 0,
		get requests() {
			return requests;
		},
		get activeStreams() {
			return activeStreams;
		},
		get cancelledStreams() {
			return cancelledStreams;
		},
		get completedStreams() {
			return completedStreams;
		},
		get requestCount() {
			return requestCount;
		},
		countByKey: (key) => byKey.get(key) ?? 0,
		peakInFlight: (key) => peaks.get(key) ?? 0,
		countByPath: (path) => byPath.get(path) ?? 0,
		setBehavior(b) {
			globalBehavior = toBehavior(b);
			cache.clear();
		},
		failModel(model, status) {
			if (status === null) failingModels.delete(model);
			else failingModels.set(model, status);
			cache.clear();
		},
		waitFor(predicate, timeoutMs = 5_000, what = "mock-upstream condition") {
			const o: WaitForOptions = { timeoutMs, intervalMs: 10, what };
			return waitFor(predicate, o);
		},
		reset() {
			requests = [];
			byKey = new Map();
			byPath = new Map();
			requestCount = 0;
			cancelledStreams = 0;
			completedStreams = 0;
			globalBehavior = toBehavior(opts.behavior);
			failingModels.clear();
			cache.clear();
		},
		async stop() {
			await server.stop(true);
		},
	};
}
