import { type SseEvent, SseParser } from "../sse/sse-parser.ts";
import type { TokenUsage } from "../usage/token-usage.ts";
import type { StreamTransform } from "./stream-transform.ts";

/** A stream translator of a protocol folder (src/protocols/*): parsed upstream events in, client bytes out. */
export interface EventTranslator {
	push(ev: SseEvent): Uint8Array[];
	finish(): Uint8Array[];
	readonly usage: TokenUsage;
	/** The upstream's closing usage arrived (not only the count a stream starts with). */
	readonly usageFinal: boolean;
	readonly completed: boolean;
}

/**
 * Runs a translator inside the relay: parses the upstream's SSE, feeds the translator, and
 * reports completion and errors. Translators write whole events, so a keepalive comment
 * may go in between any two chunks.
 */
export class TranslatingTransform implements StreamTransform {
	private readonly parser = new SseParser();
	upstreamError: { message: string; type?: string } | null = null;
	readonly atBoundary = true;

	constructor(
		private readonly translator: EventTranslator,
		private readonly errorOf: () => { message: string; type?: string } | null,
		private readonly formatError: (message: string, code: string) => Uint8Array,
		/** True when the translator's finish() itself reports a broken stream to the client. */
		private readonly finishReportsBreak: boolean,
	) {}

	get usage(): TokenUsage | null {
		return this.translator.usage;
	}

	get usageFinal(): boolean {
		return this.translator.usageFinal;
	}

	get completed(): boolean {
		return this.translator.completed;
	}

	push(chunk: Uint8Array): Uint8Array[] {
		const out: Uint8Array[] = [];
		for (const ev of this.parser.push(chunk)) out.push(...this.translator.push(ev));
		this.upstreamError = this.errorOf();
		return out;
	}

	finish(): Uint8Array[] {
		const out: Uint8Array[] = [];
		for (const ev of this.parser.end()) out.push(...this.translator.push(ev));
		out.push(...this.translator.finish());
		this.upstreamError = this.errorOf();
		if (!this.translator.completed && this.finishReportsBreak && !this.upstreamError) {
			this.upstreamError = { message: "upstream stream ended before completion" };
		}
		return out;
	}

	errorEvent(message: string, code: string): Uint8Array {
		return this.formatError(message, code);
	}
}
