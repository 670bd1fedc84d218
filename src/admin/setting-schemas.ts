import {
	type TInteger,
	type TLiteral,
	type TNull,
	type TNumber,
	type TOptional,
	type TUnion,
	Type as t,
} from "@sinclair/typebox";
import type { BudgetPeriod } from "../config/budget-period.ts";
import {
	SETTING_KINDS,
	type SettingKind,
	SUBJECT_SETTINGS,
	type Subject,
	type SubjectField,
	subjectFields,
} from "../config/limit-fields.ts";
import type { LogBodies } from "../config/logging-config.ts";

const limit = (max: number) =>
	t.Optional(
		t.Union([t.Integer({ minimum: 0, maximum: max }), t.Null()], {
			description: `an integer from 0 to ${max}, or null for no limit`,
		}),
	);

/**
 * One admin body field per setting kind. The budget period is a union of literals, not
 * t.UnionEnum: that one carries a default (its first value), which would fill in every create
 * and PATCH that leaves the field out. `log_bodies` null = inherit (the tenant's, else
 * `[logging] log_bodies`).
 */
export const settingSchema = {
	int32: limit(SETTING_KINDS.int32.max),
	int53: limit(SETTING_KINDS.int53.max),
	usd: t.Optional(
		t.Union([t.Number({ minimum: 0, maximum: SETTING_KINDS.usd.max }), t.Null()], {
			description: `a number from 0 to ${SETTING_KINDS.usd.max}, or null for no limit`,
		}),
	),
	period: t.Optional(t.Union(SETTING_KINDS.period.values.map((p) => t.Literal(p)))),
	log_bodies: t.Optional(t.Union([...SETTING_KINDS.log_bodies.values.map((m) => t.Literal(m)), t.Null()])),
} satisfies Record<SettingKind, unknown>;

/** The declared types of settingSchema (a `.map` loses the literals). */
interface KindSchemas {
	int32: TOptional<TUnion<[TInteger, TNull]>>;
	int53: TOptional<TUnion<[TInteger, TNull]>>;
	usd: TOptional<TUnion<[TNumber, TNull]>>;
	period: TOptional<TUnion<TLiteral<BudgetPeriod>[]>>;
	log_bodies: TOptional<TUnion<(TLiteral<LogBodies> | TNull)[]>>;
}

export type SettingProperties<S extends Subject> = {
	[F in SubjectField<S>]: KindSchemas[(typeof SUBJECT_SETTINGS)[F]["kind"]];
};

/** The admin body properties of a subject's settings (create and PATCH alike: every one optional). */
export function settingProperties<S extends Subject>(subject: S): SettingProperties<S> {
	return Object.fromEntries(
		subjectFields(subject).map((f) => [f, settingSchema[SUBJECT_SETTINGS[f].kind]]),
	) as unknown as SettingProperties<S>;
}
