import { expect } from "bun:test";

interface Mutation {
	method: string;
	path: string;
	status: number;
	requestId: string | null;
}

/**
 * Notes every mutating admin call a test file makes, then checks the audit trail against
 * them: each successful change has exactly one entry (matched by its x-request-id), a refused
 * one has none, and no entry holds any of the given secrets.
 */
export class MutationLog {
	private readonly calls: Mutation[] = [];

	note(method: string, path: string, res: Response): void {
		if (method === "GET" || method === "HEAD") return;
		this.calls.push({ method, path, status: res.status, requestId: res.headers.get("x-request-id") });
	}

	async expectAudited(
		// biome-ignore lint/suspicious/noExplicitAny: audit entries are read as loose JSON in tests
		listAudit: (cursor: string | null) => Promise<{ data: Record<string, any>[]; next_cursor: string | null }>,
		secrets: string[],
	): Promise<void> {
		// biome-ignore lint/suspicious/noExplicitAny: as above
		const entries: Record<string, any>[] = [];
		let cursor: string | null = null;
		do {
			const page = await listAudit(cursor);
			entries.push(...page.data);
			cursor = page.next_cursor;
		} while (cursor);
		const changes = this.calls.filter((c) => c.status < 300);
		expect(changes.length).toBeGreaterThan(0);
		for (const c of this.calls) {
			const found = entries.filter((e) => e.request_id === c.requestId);
			const expected = c.status < 300 ? 1 : 0;
			if (found.length !== expected)
				throw new Error(`${c.method} ${c.path} (${c.status}): ${found.length} audit entries`);
			if (expected) expect(found[0].actor).toBe("token");
		}
		// nothing else was recorded: every entry is one of these calls
		expect(entries.length).toBe(changes.length);
		const dump = JSON.stringify(entries);
		for (const s of secrets) expect(dump).not.toContain(s);
	}
}
