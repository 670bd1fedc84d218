/**
 * Hostile admin posts against a real gateway process (loopback only, bounded): three
 * unauthenticated 200 MB bodies to /admin/keys at once, then three with the admin token (the
 * 1 MiB cap answers 413). Reports the gateway's RSS before and after; fails (exit 1) when it
 * grew by more than 50 MB. Run: `bun run bench/hostile.ts` (HOSTILE_MB changes the size).
 */
import { connect } from "node:net";
import { BENCH_ADMIN_TOKEN, runBench, startGateway } from "./gateway-process.ts";
import { rssMb } from "./process-rss.ts";

const BODY_MB = Number(process.env.HOSTILE_MB ?? 200);
const POSTS = 3;
const LIMIT_MB = 50;
const CHUNK = Buffer.alloc(1024 * 1024, "x");

/** One POST with a declared length of `mb` MB, written as fast as the socket takes it; answers the status line. */
function hostilePost(port: number, mb: number, token: string | null): Promise<string> {
	return new Promise((resolve) => {
		const socket = connect(port, "127.0.0.1");
		let answer = "";
		let sent = 0;
		const finish = () => {
			socket.destroy();
			resolve(answer.split("\r\n")[0] || "(connection closed without an answer)");
		};
		socket.on("data", (d) => {
			answer += d.toString("latin1");
		});
		socket.on("error", finish);
		socket.on("close", finish);
		const pump = () => {
			// once answered, stop sending (as a client would): the answer is not lost to a reset
			while (sent < mb && !socket.destroyed && !answer) {
				sent++;
				if (!socket.write(CHUNK)) return void socket.once("drain", pump);
			}
		};
		socket.on("connect", () => {
			socket.write(
				`POST /admin/keys HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n${
					token ? `Authorization: Bearer ${token}\r\n` : ""
				}Content-Length: ${mb * CHUNK.length}\r\nConnection: close\r\n\r\n`,
			);
			pump();
		});
	});
}

await runBench(async () => {
	const gw = await startGateway({ GATEWAY_ADMIN_TOKEN: BENCH_ADMIN_TOKEN, GATEWAY_HTTP_WORKERS: "1" });
	try {
		const port = Number(new URL(gw.url).port);
		// warm the admin path once, so the baseline includes its code
		await fetch(`${gw.url}/admin/keys`, { headers: { authorization: `Bearer ${BENCH_ADMIN_TOKEN}` } });
		const before = rssMb(gw.pid);
		const anonymous = await Promise.all(Array.from({ length: POSTS }, () => hostilePost(port, BODY_MB, null)));
		const afterAnonymous = rssMb(gw.pid);
		const authorised = await Promise.all(
			Array.from({ length: POSTS }, () => hostilePost(port, BODY_MB, BENCH_ADMIN_TOKEN)),
		);
		const after = rssMb(gw.pid);
		console.log(`${POSTS} × ${BODY_MB} MB unauthenticated admin posts: ${anonymous.join(" | ")}`);
		console.log(`${POSTS} × ${BODY_MB} MB authenticated admin posts:   ${authorised.join(" | ")}`);
		console.log(
			`gateway RSS: ${before} MB before, ${afterAnonymous} MB after the unauthenticated posts, ${after} MB at the end`,
		);
		const grew = Math.max(afterAnonymous, after) - before;
		console.log(
			grew <= LIMIT_MB ? `ok: grew ${grew} MB (limit ${LIMIT_MB})` : `FAIL: grew ${grew} MB (limit ${LIMIT_MB})`,
		);
		return grew <= LIMIT_MB ? 0 : 1;
	} finally {
		await gw.stop();
	}
});
