import { Elysia } from "elysia";
import type { Sql } from "postgres";
import { adminGuard } from "./admin-auth.ts";
import { queryLogs, queryUsage } from "./usage-queries.ts";

export interface AdminDeps {
	adminToken: string | undefined;
	sql: Sql;
}

/** /admin/*: every route behind the admin token; services hold the logic. */
export function createAdminRoutes(deps: AdminDeps) {
	const guard = adminGuard(deps.adminToken);
	return new Elysia({ name: "admin", prefix: "/admin" })
		.onBeforeHandle(({ request }) => {
			guard(request.headers);
		})
		.get("/logs", ({ query }) =>
			queryLogs(deps.sql, {
				key_id: query.key_id,
				model: query.model,
				status: query.status,
				since: query.since,
				until: query.until,
				limit: query.limit,
				cursor: query.cursor,
			}),
		)
		.get("/usage", async ({ query }) => ({
			object: "list",
			group_by: query.group_by ?? "model",
			data: await queryUsage(deps.sql, {
				group_by: query.group_by ?? "model",
				since: query.since,
				until: query.until,
			}),
		}));
}
