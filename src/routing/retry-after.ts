/** Milliseconds an upstream asks us to wait: `retry-after-ms`, else `retry-after` (seconds or HTTP date). */
export function retryAfterMs(headers: Headers, now = Date.now()): number | null {
	const ms = headers.get("retry-after-ms");
	if (ms !== null) {
		const v = Number(ms);
		if (Number.isFinite(v) && v >= 0) return v;
	}
	const ra = headers.get("retry-after");
	if (ra === null) return null;
	const secs = Number(ra);
	if (Number.isFinite(secs) && secs >= 0) return secs * 1000;
	const date = Date.parse(ra);
	return Number.isNaN(date) ? null : Math.max(0, date - now);
}
