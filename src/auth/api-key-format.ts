import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { sha256Hex } from "./sha256.ts";

/**
 * Client API keys: `sk-ix-` + 43 base62 characters (≈256 bits). Only the SHA-256 hash and a
 * display prefix are stored; the full key is shown once at creation. Base62 (not base64url)
 * keeps the key one "word" for double-click selection and free of URL-special characters.
 */

export const API_KEY_PREFIX = "sk-ix-";
const BODY_CHARS = 43;
const PREFIX_CHARS = 12;
const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/** Bytes ≥ 248 are skipped so every character is equally likely (248 = 4 × 62). */
const UNBIASED_LIMIT = 248;

export interface GeneratedApiKey {
	key: string;
	/** The first 12 characters, safe to store and show (`sk-ix-AbC123`). */
	prefix: string;
	/** SHA-256 of the key, hex: what the database stores and auth looks up. */
	hash: string;
}

export function generateApiKey(): GeneratedApiKey {
	let body = "";
	while (body.length < BODY_CHARS) {
		for (const byte of randomBytes(64)) {
			if (byte >= UNBIASED_LIMIT) continue;
			body += ALPHABET[byte % 62];
			if (body.length === BODY_CHARS) break;
		}
	}
	const key = API_KEY_PREFIX + body;
	return { key, prefix: apiKeyPrefix(key), hash: hashApiKey(key) };
}

export function apiKeyPrefix(key: string): string {
	return key.slice(0, PREFIX_CHARS);
}

/** The stored form of a key: hex SHA-256. */
export const hashApiKey = sha256Hex;

/** True for a key in this gateway's format (cheap shape check before any lookup). */
export function isGatewayApiKey(key: string): boolean {
	return key.length === API_KEY_PREFIX.length + BODY_CHARS && /^sk-ix-[0-9A-Za-z]+$/.test(key);
}

/**
 * Compares two strings in time independent of where they differ and of their lengths: both are
 * hashed to 32 bytes first, then compared with crypto.timingSafeEqual.
 */
export function timingSafeEqualStr(a: string, b: string): boolean {
	const da = createHash("sha256").update(a, "utf8").digest();
	const db = createHash("sha256").update(b, "utf8").digest();
	return timingSafeEqual(da, db);
}
