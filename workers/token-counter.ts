/**
 * The tokenizer's thread: counts tokens for usage estimates (src/usage/token-counter.ts).
 * The BPE tables cost about half a second and tens of megabytes to load; here that happens
 * once, on the first estimate, without stalling an HTTP worker's event loop.
 */
import type { CountReply, CountRequest, Encoding } from "../src/usage/token-counter.ts";

declare const self: Worker;

type Counter = (text: string) => number;
/** Special-token text ("<|endoftext|>") in a prompt is plain text to the model: count it as such. */
const PLAIN = { disallowedSpecial: new Set<string>() };
const loaded = new Map<Encoding, Promise<Counter>>();

function counter(encoding: Encoding): Promise<Counter> {
	let c = loaded.get(encoding);
	if (!c) {
		c =
			encoding === "cl100k_base"
				? import("gpt-tokenizer/encoding/cl100k_base").then((m) => (t: string) => m.countTokens(t, PLAIN))
				: import("gpt-tokenizer/encoding/o200k_base").then((m) => (t: string) => m.countTokens(t, PLAIN));
		loaded.set(encoding, c);
	}
	return c;
}

self.onmessage = async (ev: MessageEvent<CountRequest>) => {
	const { id, encoding, texts } = ev.data;
	let reply: CountReply;
	try {
		const count = await counter(encoding);
		reply = { id, counts: texts.map((t) => count(t)) };
	} catch (err) {
		reply = { id, error: String((err as Error)?.message ?? err) };
	}
	self.postMessage(reply);
};
