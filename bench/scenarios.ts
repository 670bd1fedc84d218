/** Request bodies and targets of the default benchmark; reuse them for new scenarios. */

export interface Scenario {
	name: string;
	path: string;
	body: unknown;
	stream: boolean;
}

const messages = [{ role: "user", content: "Say hello to the benchmark in a few words" }];

export const plainChat: Scenario = {
	name: "chat plain",
	path: "/v1/chat/completions",
	body: { model: "gpt-4o-mini", messages, max_tokens: 12 },
	stream: false,
};

/** 20 content chunks plus role, finish and usage chunks, then [DONE]. */
export const streamedChat: Scenario = {
	name: "chat stream+usage",
	path: "/v1/chat/completions",
	body: {
		model: "gpt-4o-mini",
		messages,
		max_tokens: 20,
		stream: true,
		stream_options: { include_usage: true },
	},
	stream: true,
};

export const defaultScenarios: Scenario[] = [plainChat, streamedChat];

export interface Target {
	name: string;
	url: string;
	headers: Record<string, string>;
}
