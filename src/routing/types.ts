/** Runtime view of one upstream account, shared by routing and the provider adapters. */
export interface AccountRef {
	/** Index into the shared account-state table (stable for the process lifetime). */
	slot: number;
	provider: string;
	name: string;
	apiKey: string;
	/** Base URL override for this account, else the provider's. */
	baseUrl: string;
	weight: number;
	maxConcurrency: number;
	/** Model subset this account serves; null = every model of the provider. */
	models: ReadonlySet<string> | null;
}

export type RoutingStrategy = "first_available" | "round_robin" | "random" | "weighted" | "latency" | "least_busy";

export const ROUTING_STRATEGIES: readonly RoutingStrategy[] = [
	"first_available",
	"round_robin",
	"random",
	"weighted",
	"latency",
	"least_busy",
];

/** What one upstream attempt came to, fed back into the account's stats. */
export type AttemptOutcome =
	| { kind: "success"; ttftMs: number }
	| { kind: "rate_limited"; retryAfterMs: number | null }
	| { kind: "server_error" } // 5xx, 529
	| { kind: "timeout" }
	| { kind: "connection_error" }
	| { kind: "auth_error"; status: number } // upstream 401/403: our account is broken
	| { kind: "client_error" }; // other 4xx: the client's fault, never penalise the account
