import type { PendingQuery, Row, Sql } from "postgres";
import { BUDGET_PERIODS, type BudgetPeriod } from "../config/budget-period.ts";
import {
	SETTING_KINDS,
	type SettingsView,
	SUBJECT_SETTINGS,
	type Subject,
	type SubjectField,
	subjectFields,
} from "../config/limit-fields.ts";
import { isLogBodies } from "../config/logging-config.ts";

/**
 * The settings columns of api_keys and tenants in raw postgres.js queries, derived from the
 * one table of settings (config/limit-fields.ts). Column names come from that table, never
 * from input, so they are spliced in as SQL text.
 */

/** A numeric column as postgres.js returns it (bigint comes back as a string). */
export type DbNum = number | string | null;

/**
 * A subject's settings as selectSettings returns them, each named `${prefix}${field}`. USD is
 * selected as float8 (a number); a left-joined row that is missing gives nulls throughout.
 */
export type SettingsRow<S extends Subject, P extends string = ""> = {
	[F in SubjectField<S> as `${P}${F}`]: (typeof SUBJECT_SETTINGS)[F]["kind"] extends "period" | "log_bodies"
		? string | null
		: DbNum;
};

/** `k.rpm, …, k.budget_usd::float8 as budget_usd, …`; with a prefix each is renamed `t_rpm` etc. */
export function selectSettings(sql: Sql, subject: Subject, alias = "", prefix = ""): PendingQuery<Row[]> {
	const at = alias ? `${alias}.` : "";
	const columns = subjectFields(subject).map((f) => {
		const usd = SUBJECT_SETTINGS[f].kind === "usd";
		const expr = `${at}${f}${usd ? "::float8" : ""}`;
		return usd || prefix ? `${expr} as ${prefix}${f}` : expr;
	});
	return sql.unsafe(columns.join(", "));
}

/** `rpm, tpm, …`: the settings columns of an insert. */
export const settingNames = (sql: Sql, subject: Subject): PendingQuery<Row[]> =>
	sql.unsafe(subjectFields(subject).join(", "));

/** The values for settingNames, each cast to its column type; unset is null (the budget period: `total`). */
export function settingValues(
	sql: Sql,
	subject: Subject,
	input: Partial<Record<string, unknown>>,
): PendingQuery<Row[]> {
	return subjectFields(subject)
		.map((f) => {
			const v = input[f] ?? (SUBJECT_SETTINGS[f].kind === "period" ? "total" : null);
			return sql`${v as string}::${sql.unsafe(sqlTypeOf(f))}`;
		})
		.reduce((a, c) => sql`${a}, ${c}`);
}

/** Column → SQL type of a subject's settings, for PATCH. */
export function settingSqlTypes<S extends Subject>(subject: S): Record<SubjectField<S>, string> {
	return Object.fromEntries(subjectFields(subject).map((f) => [f, sqlTypeOf(f)])) as Record<SubjectField<S>, string>;
}

const sqlTypeOf = (f: keyof typeof SUBJECT_SETTINGS) => SETTING_KINDS[SUBJECT_SETTINGS[f].kind].sqlType;

const numOrNull = (v: DbNum | undefined): number | null => (v === null || v === undefined ? null : Number(v));

/** A selected row's settings as the admin API shows them. */
export function settingsOf<S extends Subject>(row: Record<string, unknown>, subject: S, prefix = ""): SettingsView<S> {
	const out: Record<string, unknown> = {};
	for (const f of subjectFields(subject)) {
		const v = row[`${prefix}${f}`];
		const kind = SUBJECT_SETTINGS[f].kind;
		if (kind === "period") out[f] = BUDGET_PERIODS.includes(v as BudgetPeriod) ? v : "total";
		else if (kind === "log_bodies") out[f] = isLogBodies(v) ? v : null;
		else out[f] = numOrNull(v as DbNum);
	}
	return out as SettingsView<S>;
}
