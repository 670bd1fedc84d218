import { Elysia } from "elysia";

export interface ReadyReport {
	ready: boolean;
	checks: Record<string, { ok: boolean; detail?: string }>;
}

export interface OpsDeps {
	version: string;
	readiness: () => Promise<ReadyReport> | ReadyReport;
	/** Prometheus text exposition for the whole process. */
	metrics: () => Promise<string> | string;
}

export interface OpsOptions {
	/** Also answer liveness on `/health`, the route the seed gateways and their probes use. */
	healthRoute: boolean;
}

const alive = () => ({ status: "ok" });

/** Liveness, readiness, version and metrics: no auth, cheap. */
export function createOpsRoutes(deps: OpsDeps, opts: OpsOptions = { healthRoute: true }) {
	const app = new Elysia({ name: "ops" });
	if (opts.healthRoute) app.get("/health", alive);
	return app
		.get("/healthz", alive)
		.get("/readyz", async ({ set }) => {
			const report = await deps.readiness();
			set.status = report.ready ? 200 : 503;
			return { status: report.ready ? "ready" : "not_ready", checks: report.checks };
		})
		.get("/version", () => ({ name: "interchange", version: deps.version, bun: Bun.version }))
		.get("/metrics", async () => {
			return new Response(await deps.metrics(), {
				headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
			});
		});
}
