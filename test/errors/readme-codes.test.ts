import { expect, test } from "bun:test";
import { join } from "node:path";
import { ERROR_CODES } from "../../src/errors/codes.ts";

test("every stable error code is documented in the README's table", async () => {
	const readme = await Bun.file(join(import.meta.dir, "..", "..", "README.md")).text();
	const documented = new Set([...readme.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]));
	const missing = Object.keys(ERROR_CODES).filter((code) => !documented.has(code));
	expect(missing).toEqual([]);
});
