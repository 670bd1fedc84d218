import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/** What `ix login` keeps (0600): where the gateway is and the session token for it. */
export interface SavedSession {
	url: string;
	token: string;
	session_id: string;
	expires_at: string;
	fingerprint: string;
}

export function readSession(path: string): SavedSession | null {
	try {
		return JSON.parse(readFileSync(path, "utf8")) as SavedSession;
	} catch {
		return null;
	}
}

export function writeSession(path: string, s: SavedSession): void {
	mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
	writeFileSync(path, `${JSON.stringify(s, null, 2)}\n`, { mode: 0o600 });
	chmodSync(path, 0o600);
}

export const removeSession = (path: string) => rmSync(path, { force: true });
