/**
 * The baseline a gateway cannot beat: Bun + Elysia forwarding the body to the upstream
 * with fetch and handing the upstream body back untouched (streams included).
 * Run as `bun bench/bare-proxy.ts` with UPSTREAM_URL and PORT; prints `ready <port>`.
 */
import { Elysia } from "elysia";

export function createBareProxy(upstreamUrl: string) {
	const target = `${upstreamUrl}/v1/chat/completions`;
	return new Elysia()
		.get("/__ready", () => "ok")
		.post(
			"/v1/chat/completions",
			async ({ request }) => {
				const upstream = await fetch(target, {
					method: "POST",
					headers: {
						"content-type": "application/json",
						authorization: request.headers.get("authorization") ?? "",
					},
					body: await request.text(),
				});
				return new Response(upstream.body, {
					status: upstream.status,
					headers: {
						"content-type": upstream.headers.get("content-type") ?? "application/json",
					},
				});
			},
			{ parse: "none" },
		);
}

if (import.meta.main) {
	const upstream = process.env.UPSTREAM_URL;
	if (!upstream) throw new Error("bare-proxy: UPSTREAM_URL is required");
	const app = createBareProxy(upstream).listen({
		hostname: "127.0.0.1",
		port: Number(process.env.PORT ?? 0),
		idleTimeout: 0,
	});
	console.log(`ready ${app.server?.port}`);
	process.on("SIGTERM", () => process.exit(0));
}
