/** What a model allowlist entry can match: the name the client sent and what it resolved to. */
export interface ModelNames {
	/** The model string the client sent. */
	requested: string;
	/** The upstream model id it resolved to. */
	model: string;
	provider: string;
}

/**
 * Whether a key's allowlist admits a model. Entries match the requested name, the resolved
 * id or `provider/model`; an entry ending in `*` matches by prefix (`claude/*` is every model of
 * provider claude, `gpt-4o*` every id starting so, `*` everything). No allowlist admits all.
 */
export function isModelAllowed(allow: ReadonlySet<string> | null, names: ModelNames): boolean {
	if (!allow) return true;
	const qualified = `${names.provider}/${names.model}`;
	if (allow.has(names.requested) || allow.has(names.model) || allow.has(qualified)) return true;
	for (const entry of allow) {
		if (!entry.endsWith("*")) continue;
		const prefix = entry.slice(0, -1);
		if (names.requested.startsWith(prefix) || names.model.startsWith(prefix) || qualified.startsWith(prefix)) {
			return true;
		}
	}
	return false;
}

/**
 * Whether a key's allowlist admits a model group: by the group's name only (exact or by a
 * `*` prefix). The group is what the operator grants; its targets need not be on the list, and
 * a key that lists only a target does not get the group.
 */
export function isGroupAllowed(allow: ReadonlySet<string> | null, group: string): boolean {
	if (!allow || allow.has(group)) return true;
	for (const entry of allow) if (entry.endsWith("*") && group.startsWith(entry.slice(0, -1))) return true;
	return false;
}
