/** The request one attempt sends: built by a protocol's plan for one account, sent by the failover loop. */
export interface UpstreamRequest {
	url: string;
	headers: Record<string, string>;
	/** JSON text, or the bytes of a multipart form passed through as the client sent them. */
	body: string | Uint8Array<ArrayBuffer>;
}

/** What one upstream attempt came to, fed back into the account's stats. */
export type AttemptOutcome =
	| { kind: "success"; ttftMs: number }
	| { kind: "rate_limited"; retryAfterMs: number | null }
	| { kind: "server_error" } // 5xx, 529
	| { kind: "timeout" }
	| { kind: "connection_error" }
	| { kind: "auth_error"; status: number } // upstream 401/403: our account is broken
	| { kind: "client_error" }; // other 4xx: the client's fault, never penalise the account
