/**
 * Refuses to start on a port someone else holds. The HTTP workers share the port through
 * SO_REUSEPORT, and the kernel lets any later socket with that option join the group: a
 * stranger (or a second gateway) already listening would silently get a share of our
 * connections, Authorization headers included. So before any worker binds, the supervisor
 * binds the port once *without* SO_REUSEPORT, which fails if any socket holds it, whatever
 * that socket's options, and releases it at once.
 *
 * Why this is race-free enough: between this probe and the first worker's bind there is a
 * window of milliseconds. A plain socket bound in it makes the worker's bind fail, which
 * stops the start. Linux only lets a socket join an SO_REUSEPORT group when its effective
 * UID matches the first socket's, so only a process of our own user could join, and such a
 * process can read our memory anyway. Once the workers listen, the probe a second gateway
 * runs fails on our sockets. A single worker binds without SO_REUSEPORT at all.
 */
export function claimPort(hostname: string, port: number): void {
	// port 0: the system picks a free port for each listener; nobody can be sharing it
	if (port === 0) return;
	try {
		Bun.listen({ hostname, port, socket: { data() {} } }).stop(true);
	} catch (e) {
		const code = (e as { code?: string }).code;
		const why = code === "EADDRINUSE" ? "is already in use by another process" : `cannot be bound (${code ?? e})`;
		throw new Error(
			`port ${port} on ${hostname} ${why}: refusing to start rather than share it (stop the other process or set PORT / server.port)`,
		);
	}
}
