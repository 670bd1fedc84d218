import { RedisClient } from "bun";
import { freePort } from "./free-port.ts";
import { waitFor } from "./wait-for.ts";

export interface TestRedis {
	url: string;
	port: number;
	stop(): Promise<void>;
	/** Starts it again on the same port (with no data: a restarted Redis forgets). */
	restart(): Promise<void>;
}

async function answers(url: string): Promise<boolean> {
	const c = new RedisClient(url, { enableOfflineQueue: false, autoReconnect: false, connectionTimeout: 300 });
	try {
		await c.connect();
		return (await c.send("PING", [])) === "PONG";
	} catch {
		return false;
	} finally {
		c.close();
	}
}

/** A `redis-server` of the test's own on a free loopback port, with no persistence. */
export async function startRedis(): Promise<TestRedis> {
	const port = await freePort();
	const url = `redis://127.0.0.1:${port}`;
	let proc: ReturnType<typeof Bun.spawn> | null = null;
	const launch = async () => {
		proc = Bun.spawn(
			["redis-server", "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
			{
				stdout: "ignore",
				stderr: "ignore",
			},
		);
		await waitFor(() => answers(url), { what: `redis-server on ${port}`, timeoutMs: 10_000 });
	};
	const stop = async () => {
		const p = proc;
		if (!p) return;
		proc = null;
		p.kill("SIGKILL");
		await p.exited;
	};
	await launch();
	return { url, port, stop, restart: async () => launch() };
}

/** The machine's Redis (REDIS_URL, else 127.0.0.1:6379) if it answers, else null. */
export async function machineRedis(): Promise<string | null> {
	const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
	return (await answers(url)) ? url : null;
}
