/**
 * A bare Bun server that forwards a chat request to the upstream and hands the streamed answer
 * back in one of several ways (RELAY_MODE): `native` (the upstream body as the Response body:
 * Bun pipes it without JS), or through JavaScript that only passes chunks on: `pull`
 * (ReadableStream with pull), `direct` (Bun direct stream, write + flush per chunk),
 * `generator` (async generator body), `transform` (TransformStream). No tap, no gateway work:
 * the cost of letting JavaScript see the bytes at all. Used by bench/relay-floor.ts.
 */
const upstream = `${process.env.UPSTREAM_URL}/v1/chat/completions`;
const mode = process.env.RELAY_MODE ?? "native";

function relay(body: ReadableStream<Uint8Array>): BodyInit {
	switch (mode) {
		case "native":
			return body;
		case "pull": {
			const reader = body.getReader();
			return new ReadableStream<Uint8Array>(
				{
					async pull(c) {
						const r = await reader.read();
						if (r.done) c.close();
						else c.enqueue(r.value);
					},
					cancel: () => reader.cancel(),
				},
				{ highWaterMark: 0 },
			);
		}
		case "direct": {
			const reader = body.getReader();
			const source: Bun.DirectUnderlyingSource<Uint8Array> = {
				type: "direct",
				async pull(c) {
					for (;;) {
						const r = await reader.read();
						if (r.done) break;
						const w = c.write(r.value);
						const f = c.flush();
						if (typeof f !== "number") await f;
						if (typeof w !== "number") await w;
					}
					c.close();
				},
			};
			return new ReadableStream<Uint8Array>(source as unknown as UnderlyingDefaultSource<Uint8Array>);
		}
		case "generator":
			return (async function* () {
				for await (const chunk of body) yield chunk;
			})() as unknown as BodyInit;
		case "transform":
			return body.pipeThrough(new TransformStream<Uint8Array, Uint8Array>());
		default:
			throw new Error(`unknown RELAY_MODE ${mode}`);
	}
}

const server = Bun.serve({
	port: Number(process.env.PORT ?? 0),
	hostname: "127.0.0.1",
	idleTimeout: 0,
	async fetch(req) {
		if (req.method === "GET") return new Response("ok");
		const up = await fetch(upstream, {
			method: "POST",
			headers: { "content-type": "application/json", authorization: "Bearer bench" },
			body: await req.text(),
		});
		return new Response(relay(up.body as ReadableStream<Uint8Array>), {
			headers: { "content-type": up.headers.get("content-type") ?? "text/event-stream" },
		});
	},
});
console.log(`ready ${server.port}`);
