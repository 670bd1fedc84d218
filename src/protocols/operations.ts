/** What a client asked for, independent of the wire protocol of the upstream that serves it. */
export type Operation =
	| "chat"
	| "completions"
	| "embeddings"
	| "responses"
	| "messages"
	| "count_tokens"
	| "images_generations"
	| "images_edits"
	| "images_variations"
	| "audio_speech"
	| "audio_transcriptions"
	| "audio_translations"
	| "moderations";

/** Operations whose body is multipart/form-data (a file upload) instead of JSON. */
export const FORM_OPERATIONS: ReadonlySet<Operation> = new Set([
	"images_edits",
	"images_variations",
	"audio_transcriptions",
	"audio_translations",
]);
