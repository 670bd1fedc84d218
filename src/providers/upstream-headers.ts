import type { AccountRef } from "./account-ref.ts";
import type { ProviderRuntime } from "./provider-registry.ts";

/** Auth and static headers for one account, per the provider's preset. */
export function upstreamHeaders(provider: ProviderRuntime, account: AccountRef): Record<string, string> {
	const headers: Record<string, string> = {
		"content-type": "application/json",
		accept: "application/json, text/event-stream",
		// fetch decompresses but keeps Content-Encoding; plain bytes keep the pass-through exact
		"accept-encoding": "identity",
		...provider.headers,
	};
	if (account.apiKey) {
		switch (provider.preset.auth) {
			case "bearer":
				headers.authorization = `Bearer ${account.apiKey}`;
				break;
			case "api-key-header":
				headers["api-key"] = account.apiKey;
				break;
			case "x-api-key":
				headers["x-api-key"] = account.apiKey;
				break;
			case "none":
				break;
		}
	}
	return headers;
}
