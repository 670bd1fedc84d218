import { describe, expect, test } from "bun:test";
import { createDb } from "../../src/db/client.ts";
import { useTestDatabase } from "../support/test-database.ts";

const t = useTestDatabase();

describe("createDb", () => {
	test("the first query of a fresh client binds an sql.array parameter as an array", async () => {
		const db = createDb(t.tdb.url, { max: 1 });
		try {
			const [row] = await db.sql<{ x: string[] }[]>`select ${db.sql.array(["a", "b,c"])}::text[] as x`;
			expect(row?.x).toEqual(["a", "b,c"]);
		} finally {
			await db.close();
		}
	});

	test("so does the first query on each connection a fresh pool opens at once", async () => {
		const db = createDb(t.tdb.url, { max: 3 });
		try {
			const rows = await Promise.all(
				[1, 2, 3].map((n) => db.sql<{ x: number[] }[]>`select ${db.sql.array([n, n + 1])}::int[] as x, pg_sleep(0.05)`),
			);
			expect(rows.map((r) => r[0]?.x)).toEqual([
				[1, 2],
				[2, 3],
				[3, 4],
			]);
		} finally {
			await db.close();
		}
	});
});
