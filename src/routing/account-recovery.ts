import type { Logger } from "../logging/logger.ts";
import type { AccountRef } from "../providers/account-ref.ts";
import type { ProviderRuntime, ProviderSet } from "../providers/provider-registry.ts";
import { upstreamHeaders } from "../providers/upstream-headers.ts";
import type { AccountHealth } from "./account-health.ts";
import type { ModelLanes } from "./model-lanes.ts";

/** How an account disabled by an upstream 401/403 came back. */
export type RecoveryCause = "settings_changed" | "admin" | "recheck";

export interface AccountRecoveryOptions {
	health: AccountHealth;
	lanes: ModelLanes;
	logger?: Logger;
	/** First re-check this long after the disable; each failed one doubles it. */
	recheckBaseMs?: number;
	recheckMaxMs?: number;
	/** How often the re-check loop looks for due accounts. */
	tickMs?: number;
	now?: () => number;
}

const RECHECK_TIMEOUT_MS = 10_000;

type AccountId = Pick<AccountRef, "slot" | "provider" | "name">;

/**
 * Brings back accounts an upstream 401/403 disabled: when their key or settings change
 * (the provider catalog reports it), on an explicit admin re-enable, and by a periodic
 * re-check with exponential backoff (an authenticated GET of the upstream's model list,
 * which costs no tokens). The disable itself is logged once, here, with its reason.
 */
export class AccountRecovery {
	private readonly health: AccountHealth;
	private readonly lanes: ModelLanes;
	private readonly logger: Logger | undefined;
	private readonly baseMs: number;
	private readonly maxMs: number;
	private readonly tickMs: number;
	private readonly now: () => number;
	/** Per disabled slot: which disable it is (its since time) and how many re-checks failed. */
	private readonly rechecks = new Map<number, { since: number; failed: number; running: boolean }>();

	constructor(options: AccountRecoveryOptions) {
		this.health = options.health;
		this.lanes = options.lanes;
		this.logger = options.logger;
		this.baseMs = options.recheckBaseMs ?? 30_000;
		this.maxMs = options.recheckMaxMs ?? 30 * 60_000;
		this.tickMs = options.tickMs ?? 5_000;
		this.now = options.now ?? Date.now;
	}

	/** The one log line of a disable (AccountSelector's onDisabled). */
	disabled(account: AccountId, status: number): void {
		this.logger?.warn(
			{ provider: account.provider, account: account.name, reason: `upstream_${status}` },
			"upstream account disabled: the upstream refused its credentials; it comes back when its key or settings change, on POST /admin/providers/:name/accounts/:account/enable, or when a periodic re-check succeeds",
		);
	}

	/**
	 * Re-enables an account with a clean record (account and model lanes). Returns whether
	 * it was disabled; only then is the recovery logged.
	 */
	enable(account: AccountId, cause: RecoveryCause): boolean {
		const table = this.health.table;
		const wasDisabled = table.disabledStatus(account.slot) !== 0;
		this.health.enable(account.slot);
		this.lanes.resetAccount(account.provider, account.name);
		this.rechecks.delete(account.slot);
		if (wasDisabled) {
			this.logger?.info({ provider: account.provider, account: account.name, cause }, "upstream account re-enabled");
		}
		return wasDisabled;
	}

	/** Starts the periodic re-check over the current providers; returns a stop function. */
	startRechecks(current: () => ProviderSet): () => void {
		const timer = setInterval(() => void this.recheckDue(current()), this.tickMs);
		timer.unref?.();
		return () => clearInterval(timer);
	}

	/** Re-checks every disabled account whose backoff has run out. */
	async recheckDue(set: ProviderSet): Promise<void> {
		const table = this.health.table;
		const now = this.now();
		const due: Promise<void>[] = [];
		for (const provider of set.providers.values()) {
			for (const account of provider.accounts) {
				if (table.disabledStatus(account.slot) === 0) continue;
				const since = table.disabledSince(account.slot);
				let state = this.rechecks.get(account.slot);
				if (state === undefined || state.since !== since) {
					state = { since, failed: 0, running: false };
					this.rechecks.set(account.slot, state);
				}
				if (state.running || now < since + this.backoff(state.failed)) continue;
				state.running = true;
				const s = state;
				due.push(
					this.probe(provider, account).then((ok) => {
						s.running = false;
						// the account may have been re-enabled (or disabled anew) meanwhile
						if (table.disabledStatus(account.slot) === 0 || table.disabledSince(account.slot) !== s.since) return;
						if (ok) this.enable(account, "recheck");
						else s.failed++;
					}),
				);
			}
		}
		await Promise.all(due);
	}

	/** Delay from the disable to re-check number `failed + 1`. */
	private backoff(failed: number): number {
		let total = 0;
		for (let i = 0; i <= failed; i++) total += Math.min(this.baseMs * 2 ** i, this.maxMs);
		return total;
	}

	/** An authenticated GET of the upstream's model list: 2xx means the credentials work again. */
	private async probe(provider: ProviderRuntime, account: AccountRef): Promise<boolean> {
		const headers = upstreamHeaders(provider, account);
		const url = provider.preset.deploymentPaths
			? `${account.baseUrl}/openai/models?api-version=${encodeURIComponent(provider.apiVersion ?? "2024-10-21")}`
			: `${account.baseUrl}/models`;
		try {
			const res = await fetch(url, {
				headers,
				// a redirect could carry the key to another host: it counts as a failed check
				redirect: "manual",
				signal: AbortSignal.timeout(RECHECK_TIMEOUT_MS),
			});
			await res.body?.cancel().catch(() => {});
			return res.status >= 200 && res.status < 300;
		} catch {
			return false;
		}
	}
}
