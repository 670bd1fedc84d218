/** OpenAI's image, audio and moderation endpoints, deterministic. */

import { openaiError } from "./openai.ts";
import { json, namedFrame, type Reply, type ReplyContext } from "./reply.ts";
import { countWords, promptTokensFor } from "./text.ts";

type Body = Record<string, unknown>;

/** A file part of a multipart request, as the mock records it. */
export interface UploadedFile {
	filename: string;
	type: string;
	size: number;
	sha256: string;
}

/** 1×1 transparent PNG. */
const PIXEL_PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";

/** Output tokens the mock bills per image (gpt-image-1 reports usage; dall-e models do not). */
export const IMAGE_OUTPUT_TOKENS = 272;

const reportsImageUsage = (model: string) => model.startsWith("gpt-image");

function imageAnswer(model: string, prompt: string, n: number, ctx: ReplyContext): Body {
	const answer: Body = {
		created: ctx.nowSeconds,
		data: Array.from({ length: n }, () => ({ b64_json: PIXEL_PNG, revised_prompt: prompt })),
	};
	if (reportsImageUsage(model)) {
		const input = promptTokensFor([prompt]);
		answer.usage = {
			input_tokens: input,
			input_tokens_details: { text_tokens: input, image_tokens: 0 },
			output_tokens: IMAGE_OUTPUT_TOKENS * n,
			total_tokens: input + IMAGE_OUTPUT_TOKENS * n,
		};
	}
	return answer;
}

export function imageGeneration(body: Body, ctx: ReplyContext): Reply {
	if (typeof body.prompt !== "string") return openaiError(400, "prompt is required");
	const model = typeof body.model === "string" ? body.model : "dall-e-2";
	const n = typeof body.n === "number" ? body.n : 1;
	const answer = imageAnswer(model, body.prompt, n, ctx);
	if (body.stream !== true) return json(answer);
	const frames = [
		namedFrame("image_generation.partial_image", {
			type: "image_generation.partial_image",
			b64_json: PIXEL_PNG,
			partial_image_index: 0,
			created_at: ctx.nowSeconds,
		}),
		namedFrame("image_generation.completed", {
			type: "image_generation.completed",
			b64_json: PIXEL_PNG,
			created_at: ctx.nowSeconds,
			usage: answer.usage,
		}),
	];
	return { kind: "sse", frames, midErrorFrame: "" };
}

/** images/edits and images/variations: multipart with an `image` file. */
export function imageUpload(fields: Body, ctx: ReplyContext): Reply {
	const image = fields.image ?? fields["image[]"];
	if (!image || typeof image !== "object") return openaiError(400, "image file is required");
	const model = typeof fields.model === "string" ? fields.model : "dall-e-2";
	const prompt = typeof fields.prompt === "string" ? fields.prompt : "";
	return json(imageAnswer(model, prompt, Number(fields.n ?? 1), ctx));
}

/** The audio bytes the mock "speaks" for a text: deterministic, several chunks long. */
export function speechBytes(input: string, format = "mp3"): Uint8Array<ArrayBuffer> {
	const seed = new TextEncoder().encode(`${format}:${input}`);
	const out = new Uint8Array(48 * 1024 + seed.length);
	for (let i = 0; i < out.length; i++) out[i] = (seed[i % seed.length] * 31 + i) & 0xff;
	return out;
}

const AUDIO_TYPES: Record<string, string> = {
	mp3: "audio/mpeg",
	opus: "audio/opus",
	aac: "audio/aac",
	flac: "audio/flac",
	wav: "audio/wav",
	pcm: "audio/pcm",
};

export function speech(body: Body): Reply {
	if (typeof body.input !== "string") return openaiError(400, "input is required");
	if (typeof body.voice !== "string") return openaiError(400, "voice is required");
	const format = typeof body.response_format === "string" ? body.response_format : "mp3";
	return {
		kind: "bytes",
		contentType: AUDIO_TYPES[format] ?? "application/octet-stream",
		bytes: speechBytes(body.input, format),
	};
}

/**
 * transcriptions and translations: the "transcript" names the uploaded file. gpt-4o models
 * report token usage, whisper-1 a duration (as OpenAI does); translations report none.
 */
export function transcription(fields: Body, translate: boolean): Reply {
	const file = fields.file as UploadedFile | undefined;
	if (!file || typeof file !== "object") return openaiError(400, "file is required");
	const model = String(fields.model ?? "");
	const text = `transcript of ${file.filename} (${file.size} bytes)`;
	if (fields.response_format === "text") return { kind: "text", contentType: "text/plain; charset=utf-8", text };
	if (translate) return json({ text });
	const prompt = promptTokensFor([String(fields.prompt ?? "")]);
	const usage = model.startsWith("gpt-4o")
		? {
				type: "tokens",
				input_tokens: prompt + Math.ceil(file.size / 100),
				input_token_details: { text_tokens: prompt, audio_tokens: Math.ceil(file.size / 100) },
				output_tokens: countWords(text),
				total_tokens: prompt + Math.ceil(file.size / 100) + countWords(text),
			}
		: { type: "duration", seconds: 1 };
	return json({ text, usage });
}

export function moderation(body: Body, ctx: ReplyContext): Reply {
	const inputs = typeof body.input === "string" ? [body.input] : Array.isArray(body.input) ? body.input : [];
	if (inputs.length === 0) return openaiError(400, "input is required");
	return json({
		id: `modr-mock-${ctx.seq}`,
		model: body.model ?? "omni-moderation-latest",
		results: inputs.map((x) => {
			const flagged = typeof x === "string" && x.includes("violence");
			return {
				flagged,
				categories: { violence: flagged, harassment: false },
				category_scores: { violence: flagged ? 0.98 : 0.01, harassment: 0.01 },
			};
		}),
	});
}
