import { Elysia } from "elysia";
import type { Sql } from "postgres";
import { GatewayError } from "../errors/gateway-error.ts";
import { type LogRow, queryLogs } from "./usage-queries.ts";

/** One request's log row with its stored bodies (null when its `log_bodies` did not keep them). */
export type LogDetail = LogRow & {
	object: "request_log";
	/** The request as received, redacted and capped. */
	request_body: string | null;
	/** The answer, redacted and capped; a stream's is its reassembled `{"text", "tool_calls"}` as JSON. */
	response_body: string | null;
	request_truncated: boolean;
	response_truncated: boolean;
	/** True when `response_body` was reassembled from a stream. */
	response_stream: boolean;
};

interface BodyRow {
	request_body: string | null;
	response_body: string | null;
	request_truncated: boolean;
	response_truncated: boolean;
	stream: boolean;
}

export async function logDetail(sql: Sql, requestId: string): Promise<LogDetail> {
	const [{ data }, bodies] = await Promise.all([
		queryLogs(sql, { request_id: requestId, limit: 1 }),
		sql<BodyRow[]>`
			select request_body, response_body, request_truncated, response_truncated, stream
			from request_bodies where request_id = ${requestId}`,
	]);
	const row = data[0];
	if (!row) {
		throw new GatewayError("PLATFORM_NOT_FOUND", `No logged request with id '${requestId}'`, { param: "request_id" });
	}
	const b = bodies[0];
	return {
		...row,
		object: "request_log",
		request_body: b?.request_body ?? null,
		response_body: b?.response_body ?? null,
		request_truncated: b?.request_truncated ?? false,
		response_truncated: b?.response_truncated ?? false,
		response_stream: b?.stream ?? false,
	};
}

/** GET /admin/logs/:request_id: the row and, when they were logged, its bodies. */
export function logDetailRoutes(sql: Sql) {
	return new Elysia().get("/logs/:request_id", ({ params }) => logDetail(sql, params.request_id));
}
