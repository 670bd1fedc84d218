/** What a client asked for, independent of the wire protocol of the upstream that serves it. */
export type Operation = "chat" | "completions" | "embeddings" | "responses" | "messages" | "count_tokens";

/** Ingress dialect: the shape the client speaks (and expects errors in). */
export type Dialect = "openai" | "anthropic";

export const OPERATION_DIALECT: Record<Operation, Dialect> = {
	chat: "openai",
	completions: "openai",
	embeddings: "openai",
	responses: "openai",
	messages: "anthropic",
	count_tokens: "anthropic",
};

/** Operations that may stream. */
export const STREAMABLE: ReadonlySet<Operation> = new Set(["chat", "completions", "responses", "messages"]);
