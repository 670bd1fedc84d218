/** The admin API, from the browser: same origin, the token or session in sessionStorage. */
const STORE = "interchange.console.token";

export class ApiError extends Error {
	constructor(
		readonly status: number,
		message: string,
		readonly code: string | null,
		readonly requestId: string | null,
	) {
		super(message);
	}

	/** What the operator reads: the gateway's message, its code and the request id to grep the logs for. */
	describe(): string {
		const tail = [this.code, this.requestId && `request ${this.requestId}`].filter(Boolean).join(", ");
		return tail ? `${this.message} (${tail})` : this.message;
	}
}

export type Query = Record<string, string | number | null | undefined>;

export function queryString(q: Query): string {
	const p = new URLSearchParams();
	for (const [k, v] of Object.entries(q)) if (v !== null && v !== undefined && v !== "") p.set(k, String(v));
	const s = p.toString();
	return s ? `?${s}` : "";
}

export class Api {
	/** Called when the credential stops working (expired or revoked session). */
	onUnauthorized: (message: string) => void = () => {};

	get token(): string | null {
		return sessionStorage.getItem(STORE);
	}

	set token(value: string | null) {
		if (value) sessionStorage.setItem(STORE, value);
		else sessionStorage.removeItem(STORE);
	}

	/** A session made from an Ed25519 key (or a console link), rather than the admin token. */
	get isSession(): boolean {
		return this.token?.startsWith("ixs_") ?? false;
	}

	async raw(method: string, path: string, body?: unknown, accept = "application/json"): Promise<Response> {
		const headers: Record<string, string> = { accept };
		const token = this.token;
		if (token) headers.authorization = `Bearer ${token}`;
		if (body !== undefined) headers["content-type"] = "application/json";
		const res = await fetch(`/admin${path}`, {
			method,
			headers,
			body: body === undefined ? undefined : JSON.stringify(body),
			credentials: "omit",
		});
		if (res.ok) return res;
		const err = await errorOf(res);
		if (res.status === 401 && token && !path.startsWith("/auth/")) this.onUnauthorized(err.describe());
		throw err;
	}

	async call<T>(method: string, path: string, body?: unknown): Promise<T> {
		return (await (await this.raw(method, path, body)).json()) as T;
	}

	get<T>(path: string, q: Query = {}): Promise<T> {
		return this.call<T>("GET", `${path}${queryString(q)}`);
	}
}

async function errorOf(res: Response): Promise<ApiError> {
	const requestId = res.headers.get("x-request-id");
	try {
		const body = (await res.json()) as { error?: { message?: string; code?: string } };
		return new ApiError(res.status, body.error?.message ?? res.statusText, body.error?.code ?? null, requestId);
	} catch {
		return new ApiError(res.status, `HTTP ${res.status}`, null, requestId);
	}
}
