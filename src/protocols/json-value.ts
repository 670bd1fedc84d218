/** A parsed JSON object. Request bodies arrive as untrusted JSON, so translators narrow with these. */
export type JsonObject = Record<string, unknown>;

export const isObject = (v: unknown): v is JsonObject => typeof v === "object" && v !== null && !Array.isArray(v);

export const asString = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

export const asNumber = (v: unknown): number | undefined =>
	typeof v === "number" && Number.isFinite(v) ? v : undefined;
