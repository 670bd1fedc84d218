import type { TokenUsage } from "../../usage/token-usage.ts";
import { asNumber, isObject } from "../json-value.ts";
import { usageFromAnthropic } from "./response-to-openai.ts";

/**
 * The usage an Anthropic event stream reports, as it arrives. message_start carries the input
 * side and a provisional output count; message_delta carries the final cumulative output and,
 * in newer API versions, input counts too: the latest non-zero value wins, never a sum.
 */
export class AnthropicStreamUsage {
	private input = 0;
	private cacheRead = 0;
	private cacheWrite = 0;
	private output = 0;
	private thinkingTokens = 0;
	/** message_delta's usage (the closing output count) was read. */
	final = false;

	get usage(): TokenUsage {
		return usageFromAnthropic({
			input_tokens: this.input,
			cache_read_input_tokens: this.cacheRead,
			cache_creation_input_tokens: this.cacheWrite,
			output_tokens: this.output,
			output_tokens_details: { thinking_tokens: this.thinkingTokens },
		});
	}

	read(u: unknown, isStart: boolean): void {
		if (!isObject(u)) return;
		if (!isStart) this.final = true;
		const pick = (v: unknown, cur: number) => {
			const n = asNumber(v);
			return n !== undefined && n > 0 ? n : cur;
		};
		this.input = pick(u.input_tokens, this.input);
		this.cacheRead = pick(u.cache_read_input_tokens, this.cacheRead);
		this.cacheWrite = pick(u.cache_creation_input_tokens, this.cacheWrite);
		const output = asNumber(u.output_tokens);
		if (output !== undefined && (!isStart || this.output === 0)) this.output = output;
		const details = isObject(u.output_tokens_details) ? u.output_tokens_details : {};
		this.thinkingTokens = pick(details.thinking_tokens, this.thinkingTokens);
	}
}
