import { bigint, integer, numeric, text } from "drizzle-orm/pg-core";
import {
	SETTING_KINDS,
	SUBJECT_SETTINGS,
	type Subject,
	type SubjectField,
	subjectFields,
} from "../../config/limit-fields.ts";

/** Each settings kind's column; names are the SQL names, so raw queries and drizzle agree. */
const int32 = <N extends string>(name: N) => integer(name);
const int53 = <N extends string>(name: N) => bigint(name, { mode: "number" });
const usd = <N extends string>(name: N) => numeric(name, { precision: 18, scale: 6 });
/** What budget_usd covers: one UTC day, ISO week, calendar month, or all time. */
const period = <N extends string>(name: N) =>
	text(name, { enum: SETTING_KINDS.period.values }).notNull().default("total");
/** Which requests keep their bodies; null = inherit (a key: its tenant's; a tenant: `[logging] log_bodies`). */
const logBodies = <N extends string>(name: N) => text(name, { enum: SETTING_KINDS.log_bodies.values });
const COLUMN = { int32, int53, usd, period, log_bodies: logBodies };

type Kinds = typeof SUBJECT_SETTINGS;
type ColumnOf<F extends keyof Kinds> = {
	int32: ReturnType<typeof int32<F>>;
	int53: ReturnType<typeof int53<F>>;
	usd: ReturnType<typeof usd<F>>;
	period: ReturnType<typeof period<F>>;
	log_bodies: ReturnType<typeof logBodies<F>>;
}[Kinds[F]["kind"]];

/** The settings columns of api_keys or tenants (config/limit-fields.ts), keyed by SQL name. */
export function settingColumns<S extends Subject>(subject: S): { [F in SubjectField<S>]: ColumnOf<F> } {
	return Object.fromEntries(subjectFields(subject).map((f) => [f, COLUMN[SUBJECT_SETTINGS[f].kind](f)])) as {
		[F in SubjectField<S>]: ColumnOf<F>;
	};
}
