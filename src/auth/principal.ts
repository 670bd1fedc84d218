import { BUDGET_PERIODS, type BudgetPeriod } from "../config/budget-period.ts";
import type { LogBodies } from "../config/logging-config.ts";

/** Limits a key (or its tenant) carries; absent fields mean unlimited. */
export interface KeyLimits {
	rpm?: number;
	tpm?: number;
	max_concurrency?: number;
	quota_daily_requests?: number;
	quota_daily_tokens?: number;
	budget_usd?: number;
	/** What budget_usd covers; absent = `total` (all time). Only set alongside a budget. */
	budget_period?: Exclude<BudgetPeriod, "total">;
}

/** The budget period of a stored or introspected value: a day, week or month, else undefined (all time). */
export function periodOf(v: unknown): KeyLimits["budget_period"] {
	return v !== "total" && BUDGET_PERIODS.includes(v as BudgetPeriod) ? (v as KeyLimits["budget_period"]) : undefined;
}

/** Every limit field a key carries, in enforcement order. */
export const KEY_LIMIT_FIELDS = [
	"rpm",
	"tpm",
	"max_concurrency",
	"quota_daily_requests",
	"quota_daily_tokens",
	"budget_usd",
] as const satisfies readonly (keyof KeyLimits)[];

/** Who is calling, as the request path sees it after authentication. */
export interface Principal {
	/** Virtual key id; null for static dev keys. */
	keyId: string | null;
	tenantId: string | null;
	/** Model allowlist (as the client names them); null = every model. */
	models: ReadonlySet<string> | null;
	limits: KeyLimits | null;
	/** The key's (else its tenant's) `log_bodies`, carried so the request path never looks it up; absent = `[logging] log_bodies`. */
	logBodies?: LogBodies;
}

/** Turns a presented client key into a Principal, or throws a 401 GatewayError. */
export interface Authenticator {
	authenticate(token: string): Principal | Promise<Principal>;
}
