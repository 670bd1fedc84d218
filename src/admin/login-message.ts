/**
 * The exact text an operator's key signs to log in. The server hands it out whole with the
 * challenge, so clients sign it as given and never rebuild it; the host line lets a client check
 * that the challenge is for the gateway it addressed (a relayed challenge names another host).
 */
export interface LoginMessageFields {
	nonce: string;
	fingerprint: string;
	host: string;
	expiresAt: Date;
}

export const LOGIN_MESSAGE_PREFIX = "interchange-admin-login";

export function loginMessage(f: LoginMessageFields): string {
	return [
		LOGIN_MESSAGE_PREFIX,
		`nonce: ${f.nonce}`,
		`fingerprint: ${f.fingerprint}`,
		`host: ${f.host}`,
		`expires: ${f.expiresAt.toISOString()}`,
	].join("\n");
}

/** The host line of a login message (null if it has none): what the CLI compares with its URL. */
export function loginMessageHost(message: string): string | null {
	const lines = message.split("\n");
	if (lines[0] !== LOGIN_MESSAGE_PREFIX) return null;
	const line = lines.find((l) => l.startsWith("host: "));
	return line ? line.slice("host: ".length) : null;
}
