import { describe, expect, test } from "bun:test";
import { createOpsRoutes, type OpsDeps } from "../../src/ops/index.ts";

const deps: OpsDeps = { version: "test", readiness: () => ({ ready: true, checks: {} }), metrics: () => "" };
const get = (app: ReturnType<typeof createOpsRoutes>, path: string) =>
	app.handle(new Request(`http://localhost${path}`)).then((r) => r.status);

describe("GET /health", () => {
	test("answers like /healthz by default, and is gone when turned off (HEALTH_CHECK_ENABLED=false)", async () => {
		const on = createOpsRoutes(deps, { healthRoute: true });
		expect(await get(on, "/health")).toBe(200);
		const off = createOpsRoutes(deps, { healthRoute: false });
		expect(await get(off, "/health")).toBe(404);
		expect(await get(off, "/healthz")).toBe(200);
	});
});
