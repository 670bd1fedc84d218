import { CliError, EXIT } from "./cli-error.ts";

/** How a refused admin call tells the operator what to do next. */
const LOGIN_AGAIN: Record<string, string> = {
	PLATFORM_ADMIN_SESSION_EXPIRED: "session expired",
	PLATFORM_ADMIN_SESSION_REVOKED: "session revoked",
	PLATFORM_ADMIN_KEY_REVOKED: "your admin key was revoked (enrol a new one)",
	PLATFORM_ADMIN_UNAUTHORIZED: "not authorised",
};

interface ErrorBody {
	error?: { message?: string; code?: string; request_id?: string };
}

/** A thin client of /admin/*: JSON in and out, refusals as CliError with the right exit code. */
export class AdminClient {
	constructor(
		readonly url: string,
		private readonly token: string | null,
	) {}

	get<T>(path: string, query: Record<string, string | undefined> = {}): Promise<T> {
		return this.call<T>("GET", withQuery(path, query));
	}

	/** The raw body (CSV and other non-JSON answers). */
	async text(path: string, query: Record<string, string | undefined> = {}): Promise<string> {
		return (await this.send("GET", withQuery(path, query))).text();
	}

	call<T>(method: string, path: string, body?: unknown): Promise<T> {
		return this.send(method, path, body).then((r) => r.json() as Promise<T>);
	}

	private async send(method: string, path: string, body?: unknown): Promise<Response> {
		const headers: Record<string, string> = { accept: "application/json" };
		if (this.token) headers.authorization = `Bearer ${this.token}`;
		if (body !== undefined) headers["content-type"] = "application/json";
		let res: Response;
		try {
			res = await fetch(`${this.url}${path}`, {
				method,
				headers,
				body: body === undefined ? undefined : JSON.stringify(body),
			});
		} catch (e) {
			throw new CliError(EXIT.refused, `cannot reach ${this.url}: ${(e as Error).message}`);
		}
		if (res.ok) return res;
		const err = ((await res.json().catch(() => ({}))) as ErrorBody).error;
		const code = err?.code ?? `HTTP ${res.status}`;
		const detail = `${err?.message ?? res.statusText} (${code}${err?.request_id ? `, request ${err.request_id}` : ""})`;
		const again = err?.code ? LOGIN_AGAIN[err.code] : undefined;
		// a refused login (no token yet) is a refusal; a refused credential means logging in again
		if (res.status === 401 && again && this.token) {
			throw new CliError(
				EXIT.notLoggedIn,
				`${again}: run \`ix login ${this.url}\` (or pass --token / IX_ADMIN_TOKEN)\n  server said: ${detail}`,
			);
		}
		throw new CliError(EXIT.refused, `refused: ${detail}`);
	}
}

function withQuery(path: string, query: Record<string, string | undefined>): string {
	const q = new URLSearchParams();
	for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== "") q.set(k, v);
	const s = q.toString();
	return s ? `${path}?${s}` : path;
}
