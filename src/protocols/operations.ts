/** What a client asked for, independent of the wire protocol of the upstream that serves it. */
export type Operation = "chat" | "completions" | "embeddings" | "responses" | "messages" | "count_tokens";
