import { BUDGET_PERIODS, type BudgetPeriod } from "./budget-period.ts";
import { LOG_BODIES, type LogBodies } from "./logging-config.ts";

/** Postgres `int` (int4): the largest value an `int32` limit column holds. */
export const PG_INT_MAX = 2_147_483_647;
/** USD; the live counter holds micro-USD in 64 bits, far above this. */
export const BUDGET_MAX_USD = 1_000_000_000;

/**
 * How a setting is stored and bounded. `int32` is a Postgres `int`; `int53` a `bigint` bounded
 * by what a JS number holds exactly; `usd` a `numeric(18,6)`; `period` and `log_bodies` are
 * text enums.
 */
export const SETTING_KINDS = {
	int32: { sqlType: "int", max: PG_INT_MAX },
	int53: { sqlType: "bigint", max: Number.MAX_SAFE_INTEGER },
	usd: { sqlType: "numeric", max: BUDGET_MAX_USD },
	period: { sqlType: "text", values: BUDGET_PERIODS },
	log_bodies: { sqlType: "text", values: LOG_BODIES },
} as const;
export type SettingKind = keyof typeof SETTING_KINDS;

/** Who carries a setting: a client key, or a tenant for all its keys together. */
export type Subject = "key" | "tenant";

interface SettingSpec {
	kind: SettingKind;
	/** False for a key-only setting. */
	tenant: boolean;
	description: string;
}

/**
 * The one declaration of what a key or tenant carries beside its identity: the limits, in
 * enforcement order, and `log_bodies`, which is no limit but is stored, validated and carried
 * the same way. The TypeScript types, the admin API's body schemas and views, the SQL columns
 * (drizzle schema and raw queries), the auth lookup's mapping, token introspection and the CLI
 * flags are all derived from this table. Absent or null means unlimited (or, for `log_bodies`,
 * inherited).
 */
export const SUBJECT_SETTINGS = {
	rpm: { kind: "int32", tenant: true, description: "requests per minute" },
	tpm: { kind: "int32", tenant: true, description: "tokens per minute" },
	max_concurrency: { kind: "int32", tenant: false, description: "requests in flight at once" },
	quota_daily_requests: { kind: "int32", tenant: true, description: "requests per UTC day" },
	quota_daily_tokens: { kind: "int53", tenant: true, description: "tokens per UTC day" },
	budget_usd: { kind: "usd", tenant: true, description: "USD spent per budget period" },
	budget_period: {
		kind: "period",
		tenant: true,
		description: "what budget_usd covers: day, week, month (UTC) or total (all time, the default)",
	},
	log_bodies: {
		kind: "log_bodies",
		tenant: true,
		description: "which requests keep their bodies: none, errors or all; unset inherits (a key's wins)",
	},
} as const satisfies Record<string, SettingSpec>;

type Settings = typeof SUBJECT_SETTINGS;
export type SettingField = keyof Settings;
type KindOf<F extends SettingField> = Settings[F]["kind"];
/** The limits among the settings. */
export type LimitField = { [F in SettingField]: KindOf<F> extends "log_bodies" ? never : F }[SettingField];
/** The limits that are a number (all but the budget period). */
export type NumericLimitField = {
	[F in SettingField]: KindOf<F> extends "int32" | "int53" | "usd" ? F : never;
}[SettingField];
/** The settings a subject carries. */
export type SubjectField<S extends Subject> = S extends "tenant"
	? { [F in SettingField]: Settings[F]["tenant"] extends true ? F : never }[SettingField]
	: SettingField;

/** A setting's value in memory: a number, a budget period (`total` is the absence of one) or a log mode. */
type ValueOf<K extends SettingKind> = K extends "period"
	? Exclude<BudgetPeriod, "total">
	: K extends "log_bodies"
		? LogBodies
		: number;

/** Limits a key (or its tenant) carries; absent fields mean unlimited. A budget period is only set alongside a budget. */
export type KeyLimits = { [F in LimitField]?: ValueOf<KindOf<F>> };
/** Limits as handed to the limiter: null, like absent, means unlimited. */
export type NullableLimits = { [F in NumericLimitField]?: number | null } & Pick<KeyLimits, "budget_period">;

const names = Object.keys(SUBJECT_SETTINGS) as SettingField[];

/** The settings a subject carries, in the table's order. */
export function subjectFields<S extends Subject>(subject: S): readonly SubjectField<S>[] {
	return names.filter((f) => subject === "key" || SUBJECT_SETTINGS[f].tenant) as SubjectField<S>[];
}

/** Every limit a key carries, in enforcement order. */
export const LIMIT_FIELDS = names.filter((f) => SUBJECT_SETTINGS[f].kind !== "log_bodies") as readonly LimitField[];

/** Every numeric limit a key carries, in enforcement order. */
export const KEY_LIMIT_FIELDS = LIMIT_FIELDS.filter(
	(f) => SUBJECT_SETTINGS[f].kind !== "period",
) as readonly NumericLimitField[];

/** The budget period of a stored or introspected value: a day, week or month, else undefined (all time). */
export function periodOf(v: unknown): KeyLimits["budget_period"] {
	return v !== "total" && BUDGET_PERIODS.includes(v as BudgetPeriod) ? (v as KeyLimits["budget_period"]) : undefined;
}

/**
 * A subject's settings as the admin API shows them: null where unset, the budget period
 * `total` when the budget is for all time.
 */
export type SettingsView<S extends Subject> = {
	[F in SubjectField<S>]: KindOf<F> extends "period"
		? BudgetPeriod
		: KindOf<F> extends "log_bodies"
			? LogBodies | null
			: number | null;
};
