/** Query parameters whose values are credentials (libpq's `password`, `sslpassword`, API tokens, …). */
const SECRET_PARAM = /pass|pwd|secret|token|key|auth/i;
const MASK = "***";

/**
 * Masks the credentials inside a URL before it is logged: the password of the user info
 * (one containing `@` included, as URL parsing takes the last `@` of the authority) and the
 * values of secret-looking query parameters (`?password=`). A string that does not parse as
 * a URL loses everything between `//` and its last `@`: over-masking is the safe failure.
 */
export function redactUrl(url: string): string {
	let u: URL;
	try {
		u = new URL(url);
	} catch {
		return url.replace(/\/\/.*@/, `//${MASK}@`);
	}
	if (u.password) u.password = MASK;
	for (const key of new Set(u.searchParams.keys())) {
		if (SECRET_PARAM.test(key)) u.searchParams.set(key, MASK);
	}
	return u.toString();
}

/** Every URL inside free text (an error message, say) passed through redactUrl; trailing punctuation is not part of it. */
export function redactUrls(text: string): string {
	return text.replace(/[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]*[^\s"'<>).,;]/gi, redactUrl);
}
