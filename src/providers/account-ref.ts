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
