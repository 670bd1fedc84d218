/** A value that satisfies a JSON schema, for structured-output answers (first choice everywhere). */
export function sampleFor(schema: unknown): unknown {
	if (typeof schema !== "object" || schema === null) return "mock";
	const s = schema as Record<string, unknown>;
	if ("const" in s) return s.const;
	if (Array.isArray(s.enum)) return s.enum[0];
	const alternatives = s.anyOf ?? s.oneOf;
	if (Array.isArray(alternatives))
		return sampleFor(alternatives.find((a) => (a as { type?: string })?.type !== "null"));
	const type = Array.isArray(s.type) ? s.type.find((t) => t !== "null") : s.type;
	switch (type) {
		case "object": {
			const props = (s.properties ?? {}) as Record<string, unknown>;
			return Object.fromEntries(Object.entries(props).map(([k, v]) => [k, sampleFor(v)]));
		}
		case "array":
			return [sampleFor(s.items)];
		case "number":
		case "integer":
			return 1;
		case "boolean":
			return true;
		case "null":
			return null;
		default:
			return "mock";
	}
}
