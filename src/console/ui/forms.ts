import { h, uid } from "./dom.ts";

/**
 * Declarative form fields. Empty inputs are left out of a create; on an edit, an emptied
 * nullable field is sent as null (the API's "no limit" / "inherit").
 */
export interface FieldSpec {
	name: string;
	label: string;
	kind: "text" | "int" | "number" | "list" | "select" | "datetime" | "secret" | "textarea";
	options?: readonly (readonly [value: string, label: string])[];
	required?: boolean;
	nullable?: boolean;
	help?: string;
	placeholder?: string;
	wide?: boolean;
}

type Values = Record<string, unknown>;

function initial(spec: FieldSpec, v: unknown): string {
	if (v === null || v === undefined) return "";
	if (spec.kind === "list" && Array.isArray(v)) return v.join(", ");
	if (spec.kind === "datetime" && typeof v === "string") {
		// datetime-local shows local time: shift the UTC instant by the zone's offset
		const d = new Date(v);
		return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
	}
	return String(v);
}

function control(spec: FieldSpec, id: string, value: string, helpId: string | null): HTMLElement {
	const common = {
		id,
		name: spec.name,
		required: spec.required ?? false,
		placeholder: spec.placeholder ?? null,
		"aria-describedby": helpId,
	};
	switch (spec.kind) {
		case "select":
			return h(
				"select",
				common,
				(spec.options ?? []).map(([v, label]) => h("option", { value: v, selected: v === value }, label)),
			);
		case "textarea":
			return h("textarea", common, value);
		case "int":
			return h("input", { ...common, type: "number", min: 0, step: 1, inputmode: "numeric", value });
		case "number":
			return h("input", { ...common, type: "number", min: 0, step: "any", inputmode: "decimal", value });
		case "datetime":
			return h("input", { ...common, type: "datetime-local", value });
		case "secret":
			return h("input", { ...common, type: "password", autocomplete: "off", value });
		default:
			return h("input", { ...common, type: "text", value });
	}
}

/** Labelled fields; `values` fills them for an edit. */
export function fields(specs: readonly FieldSpec[], values: Values = {}): HTMLElement[] {
	return specs.map((s) => {
		const id = uid(s.name);
		const helpId = s.help ? `${id}-help` : null;
		return h(
			"div",
			{ class: s.wide ? "field wide" : "field" },
			h("label", { for: id }, s.label, s.required ? " (required)" : ""),
			control(s, id, initial(s, values[s.name]), helpId),
			s.help ? h("span", { class: "help", id: helpId }, s.help) : null,
		);
	});
}

/** The JSON body for the API from the form's inputs. */
function readFields(form: HTMLFormElement, specs: readonly FieldSpec[], mode: "create" | "edit"): Values {
	const data = new FormData(form);
	const out: Values = {};
	for (const s of specs) {
		const raw = String(data.get(s.name) ?? "").trim();
		if (raw === "") {
			if (mode === "edit" && s.nullable) out[s.name] = null;
			continue;
		}
		switch (s.kind) {
			case "int":
			case "number":
				out[s.name] = Number(raw);
				break;
			case "list":
				out[s.name] = raw
					.split(",")
					.map((x) => x.trim())
					.filter(Boolean);
				break;
			case "datetime":
				out[s.name] = new Date(raw).toISOString();
				break;
			default:
				out[s.name] = raw;
		}
	}
	return out;
}

/**
 * A form that sends its fields and shows the outcome in place (an error names the field the
 * API refused, with its request id).
 */
export function apiForm(opts: {
	label: string;
	specs: readonly FieldSpec[];
	values?: Values;
	mode: "create" | "edit";
	submit: string;
	onSubmit: (body: Values) => Promise<void>;
	extra?: HTMLElement[];
}): HTMLFormElement {
	const status = h("div", { role: "status", class: "form-status" });
	const button = h("button", { type: "submit", class: "primary" }, opts.submit);
	const form = h(
		"form",
		{ class: "fields", "aria-label": opts.label },
		fields(opts.specs, opts.values),
		h("div", { class: "form-actions" }, button, opts.extra ?? []),
		h("div", { class: "field wide" }, status),
	);
	form.addEventListener("submit", async (e) => {
		e.preventDefault();
		button.disabled = true;
		status.replaceChildren();
		try {
			await opts.onSubmit(readFields(form, opts.specs, opts.mode));
		} catch (err) {
			status.replaceChildren(errorNotice(err));
		} finally {
			button.disabled = false;
		}
	});
	return form;
}

export function errorNotice(err: unknown): HTMLElement {
	const text =
		err && typeof err === "object" && "describe" in err && typeof err.describe === "function"
			? String(err.describe())
			: String((err as Error)?.message ?? err);
	return h("div", { class: "notice error", role: "alert" }, text);
}

const BUDGET_PERIODS = [
	["", "total (default)"],
	["day", "day"],
	["week", "week"],
	["month", "month"],
	["total", "total"],
] as const;
const LOG_BODIES = [
	["", "inherit"],
	["none", "none"],
	["errors", "errors"],
	["all", "all"],
] as const;

/** The limits a key and a tenant share. */
export const LIMIT_FIELDS: FieldSpec[] = [
	{ name: "rpm", label: "Requests per minute", kind: "int", nullable: true, help: "empty: no limit" },
	{ name: "tpm", label: "Tokens per minute", kind: "int", nullable: true, help: "empty: no limit" },
	{ name: "quota_daily_requests", label: "Requests per day", kind: "int", nullable: true, help: "UTC day" },
	{ name: "quota_daily_tokens", label: "Tokens per day", kind: "int", nullable: true, help: "UTC day" },
	{ name: "budget_usd", label: "Budget (USD)", kind: "number", nullable: true, help: "empty: no budget" },
	{ name: "budget_period", label: "Budget period", kind: "select", options: BUDGET_PERIODS },
	{ name: "log_bodies", label: "Log bodies", kind: "select", options: LOG_BODIES, nullable: true },
];
