import { OpenAIStreamTap } from "./stream-tap.ts";

/**
 * Streams of the image and transcription endpoints (`image_generation.partial_image`,
 * `transcript.text.delta`, …) end with the body: there is no `[DONE]` to wait for. Usage is
 * read from the event that carries it (`image_generation.completed`, `transcript.text.done`)
 * and in-band errors are seen, as in every OpenAI stream.
 */
export class OpenAIEventStreamTap extends OpenAIStreamTap {
	override finish(): Uint8Array[] {
		const out = super.finish();
		this.completed = this.upstreamError === null;
		return out;
	}
}
