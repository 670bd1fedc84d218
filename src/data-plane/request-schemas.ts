import { type Static, Type as T, type TSchema } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { GatewayError } from "../errors/gateway-error.ts";
import type { Operation } from "../protocols/operations.ts";

/**
 * Only the fields the gateway itself reads are checked; everything else goes to the upstream
 * as the client sent it (the upstream is the authority on its own parameters).
 */
const Model = T.String({ minLength: 1, maxLength: 256 });
const Stream = T.Optional(T.Boolean());
const StreamOptions = T.Optional(T.Union([T.Null(), T.Object({ include_usage: T.Optional(T.Boolean()) })]));
const MaxTokens = T.Optional(T.Union([T.Null(), T.Integer({ minimum: 1 })]));
const Message = T.Object({ role: T.String({ minLength: 1 }) });
const User = T.Optional(T.String());

export const ChatRequest = T.Object({
	model: Model,
	messages: T.Array(Message, { minItems: 1 }),
	stream: Stream,
	stream_options: StreamOptions,
	max_tokens: MaxTokens,
	max_completion_tokens: MaxTokens,
	user: User,
});
export const CompletionRequest = T.Object({
	model: Model,
	prompt: T.Union([T.String(), T.Array(T.Unknown(), { minItems: 1 })]),
	stream: Stream,
	stream_options: StreamOptions,
	max_tokens: MaxTokens,
	user: User,
});
export const EmbeddingRequest = T.Object({
	model: Model,
	input: T.Union([T.String(), T.Array(T.Unknown(), { minItems: 1 })]),
	user: User,
});
export const ResponsesRequest = T.Object({ model: Model, stream: Stream, user: User });
export const MessagesRequest = T.Object({
	model: Model,
	max_tokens: T.Integer({ minimum: 1 }),
	messages: T.Array(Message),
	stream: Stream,
	system: T.Optional(T.Unknown()),
});
export const CountTokensRequest = T.Object({ model: Model, messages: T.Array(Message) });
/** The model is optional at OpenAI for these (a default model); the gateway routes by it, so it is required here. */
export const ImageGenerationRequest = T.Object({ model: Model, prompt: T.String(), stream: Stream, user: User });
export const SpeechRequest = T.Object({ model: Model, input: T.String() });
export const ModerationRequest = T.Object({
	model: Model,
	input: T.Union([T.String(), T.Array(T.Unknown(), { minItems: 1 })]),
});
/** The fields read from a multipart upload (images to edit, audio to transcribe). */
export const UploadRequest = T.Object({ model: Model, stream: Stream });

export type ChatRequest = Static<typeof ChatRequest>;
export type MessagesRequest = Static<typeof MessagesRequest>;

const SCHEMAS: Record<Operation, TSchema> = {
	chat: ChatRequest,
	completions: CompletionRequest,
	embeddings: EmbeddingRequest,
	responses: ResponsesRequest,
	messages: MessagesRequest,
	count_tokens: CountTokensRequest,
	images_generations: ImageGenerationRequest,
	images_edits: UploadRequest,
	images_variations: UploadRequest,
	audio_speech: SpeechRequest,
	audio_transcriptions: UploadRequest,
	audio_translations: UploadRequest,
	moderations: ModerationRequest,
};

const CHECKERS = Object.fromEntries(
	Object.entries(SCHEMAS).map(([op, schema]) => [op, TypeCompiler.Compile(schema)]),
) as Record<Operation, ReturnType<typeof TypeCompiler.Compile>>;

/** The fields every operation shares once validated. */
export interface CommonFields {
	model: string;
	stream?: boolean;
	user?: string;
	[key: string]: unknown;
}

/** Checks a parsed body against its operation's schema; a 400 naming the first bad field otherwise. */
export function validateRequest(op: Operation, body: unknown): CommonFields {
	const checker = CHECKERS[op];
	if (checker.Check(body)) return body as CommonFields;
	const first = checker.Errors(body).First();
	const param = first ? first.path.replace(/^\//, "").replaceAll("/", ".") || null : null;
	const what = first?.message ?? "is invalid";
	throw new GatewayError(
		"PLATFORM_INVALID_REQUEST",
		param ? `Invalid value for '${param}': ${what.toLowerCase()}` : `Invalid request body: ${what.toLowerCase()}`,
		{ param },
	);
}
