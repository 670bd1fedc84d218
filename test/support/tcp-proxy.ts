import type { Socket } from "bun";

/** One direction of a piped connection, with the bytes the peer could not take yet. */
interface Pipe {
	peer: Socket<Pipe> | null;
	/** Bytes received before the upstream connected, or not yet accepted by the peer. */
	backlog: Uint8Array[];
}

export interface TcpProxy {
	port: number;
	/** Closes every open connection and refuses new ones until restore(). */
	cut(): void;
	restore(): void;
	stop(): void;
}

function writeAll(to: Socket<Pipe>, data: Uint8Array, pending: Uint8Array[]): void {
	if (pending.length > 0) {
		pending.push(data);
		return;
	}
	const n = to.write(data);
	if (n < data.length) pending.push(data.subarray(Math.max(n, 0)));
}

function flushBacklog(to: Socket<Pipe>, pending: Uint8Array[]): void {
	while (pending.length > 0) {
		const chunk = pending[0];
		const n = to.write(chunk);
		if (n < chunk.length) {
			pending[0] = chunk.subarray(Math.max(n, 0));
			return;
		}
		pending.shift();
	}
}

/** A TCP proxy on 127.0.0.1 that tests can cut and restore to simulate an outage. */
export function startTcpProxy(target: { host: string; port: number }): TcpProxy {
	let refusing = false;
	const open = new Set<Socket<Pipe>>();
	const closeBoth = (s: Socket<Pipe>) => {
		open.delete(s);
		s.end();
		const peer = s.data?.peer;
		if (peer) {
			open.delete(peer);
			peer.end();
		}
	};
	const upstreamHandlers = {
		data(s: Socket<Pipe>, d: Uint8Array) {
			if (s.data.peer) writeAll(s.data.peer, d, s.data.peer.data.backlog);
		},
		drain(s: Socket<Pipe>) {
			flushBacklog(s, s.data.backlog);
		},
		close: closeBoth,
		error: closeBoth,
	};
	const listen = (port: number) =>
		Bun.listen<Pipe>({
			hostname: "127.0.0.1",
			port,
			socket: {
				open(client) {
					client.data = { peer: null, backlog: [] };
					if (refusing) {
						client.end();
						return;
					}
					open.add(client);
					Bun.connect<Pipe>({
						hostname: target.host,
						port: target.port,
						data: { peer: client, backlog: [] },
						socket: upstreamHandlers,
					}).then(
						(up) => {
							if (!open.has(client)) {
								up.end();
								return;
							}
							open.add(up);
							// Client bytes that arrived before the upstream existed go first.
							const early = client.data.backlog.splice(0);
							client.data.peer = up;
							for (const chunk of early) writeAll(up, chunk, up.data.backlog);
						},
						() => closeBoth(client),
					);
				},
				data(client, d) {
					if (client.data.peer) writeAll(client.data.peer, d, client.data.peer.data.backlog);
					else client.data.backlog.push(new Uint8Array(d));
				},
				drain(client) {
					flushBacklog(client, client.data.backlog);
				},
				close: closeBoth,
				error: closeBoth,
			},
		});
	let server: ReturnType<typeof listen> | null = listen(0);
	const port = server.port;
	return {
		port,
		cut() {
			// like a stopped server: the port refuses connections (ECONNREFUSED), open ones drop
			refusing = true;
			server?.stop(true);
			server = null;
			for (const s of [...open]) closeBoth(s);
		},
		restore() {
			refusing = false;
			if (!server) server = listen(port);
		},
		stop() {
			refusing = true;
			for (const s of [...open]) closeBoth(s);
			server?.stop(true);
			server = null;
		},
	};
}
