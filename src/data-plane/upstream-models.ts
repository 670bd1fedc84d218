import type { ProviderRuntime } from "../providers/provider-registry.ts";
import { upstreamHeaders } from "../providers/upstream-headers.ts";

/** How long an upstream's model list is kept, and how long after a failure it is asked again. */
const FRESH_MS = 5 * 60_000;
const RETRY_MS = 30_000;
const FETCH_TIMEOUT_MS = 5_000;

interface Entry {
	ids: string[];
	/** Date.now() after which the list is fetched again. */
	refreshAt: number;
	pending: Promise<void> | null;
}

/**
 * The model ids an upstream's own `GET /models` lists, for providers whose model list has
 * patterns (`*`, `gpt-4o*`). Cached per provider for 5 minutes; a failed fetch keeps the last
 * list (empty at first) and is retried after 30 s. Only `/v1/models` asks, never the request path.
 */
export class UpstreamModels {
	private readonly cache = new Map<string, Entry>();

	async list(provider: ProviderRuntime): Promise<string[]> {
		const entry = this.cache.get(provider.name) ?? { ids: [], refreshAt: 0, pending: null };
		this.cache.set(provider.name, entry);
		if (Date.now() >= entry.refreshAt) entry.pending ??= this.refresh(provider, entry);
		if (entry.pending) await entry.pending;
		return entry.ids;
	}

	private async refresh(provider: ProviderRuntime, entry: Entry): Promise<void> {
		try {
			entry.ids = await fetchModelIds(provider);
			entry.refreshAt = Date.now() + FRESH_MS;
		} catch {
			entry.refreshAt = Date.now() + RETRY_MS;
		} finally {
			entry.pending = null;
		}
	}
}

async function fetchModelIds(provider: ProviderRuntime): Promise<string[]> {
	const account = provider.accounts[0];
	if (!account) return [];
	const res = await fetch(`${account.baseUrl}/models`, {
		headers: upstreamHeaders(provider, account),
		redirect: "manual",
		signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
	});
	if (!res.ok) throw new Error(`upstream /models answered ${res.status}`);
	const body = (await res.json()) as { data?: unknown };
	if (!Array.isArray(body.data)) throw new Error("upstream /models answered without data");
	return body.data.flatMap((m) => (typeof m?.id === "string" ? [m.id as string] : []));
}
