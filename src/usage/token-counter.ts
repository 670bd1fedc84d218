/**
 * Token counts for usage estimates, from a tokenizer thread (workers/token-counter.ts) that
 * starts on the first estimate: a gateway whose upstreams always report usage never loads
 * the tokenizer, and one that needs it never stalls a request thread to load or run it.
 */

/** The OpenAI encodings `gpt-tokenizer` ships (its ranks are in the package: no download). */
export type Encoding = "o200k_base" | "cl100k_base";

export interface CountRequest {
	id: number;
	encoding: Encoding;
	texts: string[];
}

export type CountReply = { id: number; counts: number[] } | { id: number; error: string };

/** An estimate must not hold a request's record (and a drain) for long: past this, chars / 4. */
export const ESTIMATE_DEADLINE_MS = 10_000;

/** The fallback when the tokenizer cannot answer: about 4 characters a token in English text. */
export const approximateCount = (text: string): number => Math.ceil(text.length / 4);

let worker: Worker | null = null;
let failed = false;
let nextId = 1;
const pending = new Map<number, (counts: number[] | null) => void>();

function tokenizerThread(): Worker | null {
	if (worker || failed) return worker;
	try {
		worker = new Worker(new URL("../../workers/token-counter.ts", import.meta.url));
	} catch {
		failed = true;
		return null;
	}
	worker.onmessage = (ev: MessageEvent<CountReply>) => {
		const done = pending.get(ev.data.id);
		pending.delete(ev.data.id);
		done?.("counts" in ev.data ? ev.data.counts : null);
	};
	worker.onerror = () => {
		// a thread that cannot start or load its tables: every estimate falls back from now on
		failed = true;
		worker = null;
		for (const done of pending.values()) done(null);
		pending.clear();
	};
	// an idle tokenizer must not keep the process alive
	worker.unref();
	return worker;
}

/** Token counts of `texts` in `encoding`; chars / 4 for any the tokenizer could not count in time. */
export function countTokens(encoding: Encoding, texts: string[]): Promise<number[]> {
	const fallback = () => texts.map(approximateCount);
	const thread = tokenizerThread();
	if (!thread) return Promise.resolve(fallback());
	const id = nextId++;
	return new Promise((resolve) => {
		const timer = setTimeout(() => {
			pending.delete(id);
			resolve(fallback());
		}, ESTIMATE_DEADLINE_MS);
		pending.set(id, (counts) => {
			clearTimeout(timer);
			resolve(counts ?? fallback());
		});
		thread.postMessage({ id, encoding, texts } satisfies CountRequest);
	});
}
