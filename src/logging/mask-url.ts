/** A URL fit for a log line: its password (in the authority or a `password` parameter) masked. */
export function maskUrl(raw: string): string {
	try {
		const u = new URL(raw);
		if (u.password) u.password = "***";
		for (const k of [...u.searchParams.keys()]) if (/pass|secret|token|key/i.test(k)) u.searchParams.set(k, "***");
		return u.toString();
	} catch {
		return "<unparseable url>";
	}
}
