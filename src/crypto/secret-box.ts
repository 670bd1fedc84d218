import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from "node:crypto";

/**
 * AES-256-GCM sealing of provider secrets at rest: `v1:<iv base64>:<ciphertext‖tag base64>`.
 *
 * The key comes from `GATEWAY_ENCRYPTION_KEY`, read in this order:
 * - 64 hex characters → the 32 key bytes;
 * - base64 / base64url text that decodes to exactly 32 bytes (`openssl rand -base64 32`);
 * - anything else is a passphrase (at least 16 characters), stretched with scrypt
 *   (N = 2^15, r = 8, p = 1) under a fixed, versioned salt. A fixed salt is acceptable here:
 *   there is one key per deployment, and it keeps the key reproducible from the passphrase.
 *
 * node:crypto is synchronous, which suits a decrypt that runs once per secret at load time.
 * An optional `context` string (e.g. the account id) is bound as associated data, so a sealed
 * value copied to another row does not open there.
 */

const VERSION = "v1";
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const MIN_PASSPHRASE = 16;
const SCRYPT_SALT = "interchange/secret-box/v1";

export class SecretBoxError extends Error {
	override readonly name = "SecretBoxError";
}

/** Turns the `GATEWAY_ENCRYPTION_KEY` text into 32 key bytes (see the module comment). */
export function parseEncryptionKey(text: string): Buffer {
	const value = text.trim();
	if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, "hex");
	if (/^[A-Za-z0-9+/_-]{42,44}={0,2}$/.test(value)) {
		const bytes = Buffer.from(value.replace(/-/g, "+").replace(/_/g, "/"), "base64");
		if (bytes.length === KEY_BYTES) return bytes;
	}
	if (value.length < MIN_PASSPHRASE) {
		throw new SecretBoxError(
			`GATEWAY_ENCRYPTION_KEY must be 32 bytes as hex or base64, or a passphrase of at least ${MIN_PASSPHRASE} characters`,
		);
	}
	return scryptSync(value, SCRYPT_SALT, KEY_BYTES, {
		N: 2 ** 15,
		r: 8,
		p: 1,
		maxmem: 64 * 1024 * 1024,
	});
}

/** Whether a stored value is sealed (rows written before a field was sealed hold plaintext). */
export function isSealedSecret(value: string): boolean {
	return value.startsWith(`${VERSION}:`) && value.split(":").length === 3;
}

export class SecretBox {
	private readonly key: Buffer;

	constructor(key: Uint8Array) {
		if (key.length !== KEY_BYTES) throw new SecretBoxError("secret box key must be 32 bytes");
		this.key = Buffer.from(key);
	}

	/** From `GATEWAY_ENCRYPTION_KEY`; null when it is not set (callers decide if that is fatal). */
	static fromEnv(env: Record<string, string | undefined> = process.env): SecretBox | null {
		const text = env.GATEWAY_ENCRYPTION_KEY;
		if (text === undefined || text.trim() === "") return null;
		return new SecretBox(parseEncryptionKey(text));
	}

	encrypt(plaintext: string, context?: string): string {
		const iv = randomBytes(IV_BYTES);
		const cipher = createCipheriv("aes-256-gcm", this.key, iv, {
			authTagLength: TAG_BYTES,
		});
		if (context !== undefined) cipher.setAAD(Buffer.from(context, "utf8"));
		const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final(), cipher.getAuthTag()]);
		return `${VERSION}:${iv.toString("base64")}:${body.toString("base64")}`;
	}

	/** Throws SecretBoxError for a malformed value, the wrong key, or tampered data. */
	decrypt(sealed: string, context?: string): string {
		const parts = sealed.split(":");
		if (parts.length !== 3 || parts[0] !== VERSION) {
			throw new SecretBoxError("sealed secret is not in v1:<iv>:<data> form");
		}
		const iv = Buffer.from(parts[1], "base64");
		const body = Buffer.from(parts[2], "base64");
		if (iv.length !== IV_BYTES || body.length < TAG_BYTES) {
			throw new SecretBoxError("sealed secret is truncated");
		}
		try {
			const decipher = createDecipheriv("aes-256-gcm", this.key, iv, {
				authTagLength: TAG_BYTES,
			});
			if (context !== undefined) decipher.setAAD(Buffer.from(context, "utf8"));
			decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
			const plain = Buffer.concat([decipher.update(body.subarray(0, body.length - TAG_BYTES)), decipher.final()]);
			return plain.toString("utf8");
		} catch {
			throw new SecretBoxError("cannot open sealed secret: wrong key or tampered data");
		}
	}
}

/** `sk-abcdef123456` → `sk-…3456`: a short prefix (up to the first `-`) and the last 4. */
export function maskSecret(secret: string): string {
	const dash = secret.indexOf("-");
	const prefix = dash > 0 && dash <= 8 ? secret.slice(0, dash + 1) : "";
	// Short secrets show no tail: four characters of eight would be half the secret.
	if (secret.length - prefix.length < 8) return `${prefix}…`;
	return `${prefix}…${secret.slice(-4)}`;
}
