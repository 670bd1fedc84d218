import { Elysia } from "elysia";
import { timingSafeEqualStr } from "../auth/api-key-format.ts";
import { GatewayError } from "../errors/gateway-error.ts";

/**
 * `failing` makes the instance not ready; `degraded` is reported but does not: the instance
 * still serves (a database outage, say, while usage is spooled).
 */
export type CheckState = "ok" | "degraded" | "failing";

export interface ReadyReport {
	checks: Record<string, CheckState>;
	/** Why a check is not ok, by check name. */
	details?: Record<string, string>;
}

export interface OpsDeps {
	version: string;
	readiness: () => Promise<ReadyReport> | ReadyReport;
	/** Prometheus text exposition for the whole process. */
	metrics: () => Promise<string> | string;
	/** When set, /metrics wants `Authorization: Bearer <token>` (compared in constant time). */
	metricsToken?: string;
}

function checkMetricsToken(token: string, headers: Headers): void {
	const auth = headers.get("authorization");
	const presented = auth && /^Bearer\s+(.+)$/i.exec(auth.trim())?.[1];
	if (!presented || !timingSafeEqualStr(presented.trim(), token)) {
		throw new GatewayError("PLATFORM_METRICS_UNAUTHORIZED", "/metrics needs the metrics token as a Bearer token");
	}
}

export interface OpsOptions {
	/** Also answer liveness on `/health`, the route the seed gateways and their probes use. */
	healthRoute: boolean;
}

const alive = () => ({ status: "ok" });

/** Liveness, readiness, version and metrics: cheap, and without auth except /metrics when it has a token. */
export function createOpsRoutes(deps: OpsDeps, opts: OpsOptions = { healthRoute: true }) {
	const app = new Elysia({ name: "ops" });
	if (opts.healthRoute) app.get("/health", alive);
	return app
		.get("/healthz", alive)
		.get("/readyz", async ({ set }) => {
			const { checks, details } = await deps.readiness();
			const ready = !Object.values(checks).includes("failing");
			set.status = ready ? 200 : 503;
			return { status: ready ? "ready" : "not_ready", checks, ...(details ? { details } : {}) };
		})
		.get("/version", () => ({ name: "interchange", version: deps.version, bun: Bun.version }))
		.get("/metrics", async ({ request }) => {
			if (deps.metricsToken) checkMetricsToken(deps.metricsToken, request.headers);
			return new Response(await deps.metrics(), {
				headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
			});
		});
}
