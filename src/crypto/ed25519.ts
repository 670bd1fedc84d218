import { createHash, createPublicKey, verify } from "node:crypto";

/**
 * Ed25519 public keys as OpenSSH writes them (`ssh-ed25519 AAAA… comment`) and as raw 32 bytes,
 * with OpenSSH's fingerprint (`SHA256:` + unpadded base64 of the SHA-256 of the key blob), so an
 * operator can compare what the gateway shows with `ssh-keygen -l -f key.pub`.
 */

const KEY_TYPE = "ssh-ed25519";
export const ED25519_PUBLIC_KEY_BYTES = 32;
const SIGNATURE_BYTES = 64;

export class PublicKeyFormatError extends Error {
	override readonly name = "PublicKeyFormatError";
}

export interface ParsedPublicKey {
	/** The raw 32 bytes. */
	raw: Uint8Array;
	/** The text after the base64 blob of an OpenSSH line, if any. */
	comment: string | null;
}

const sshString = (bytes: Uint8Array): Buffer => {
	const len = Buffer.alloc(4);
	len.writeUInt32BE(bytes.length);
	return Buffer.concat([len, bytes]);
};

/** The SSH wire blob: string "ssh-ed25519", string key. */
function sshBlob(raw: Uint8Array): Buffer {
	return Buffer.concat([sshString(Buffer.from(KEY_TYPE)), sshString(raw)]);
}

/** Reads `ssh-ed25519 AAAA… [comment]` or the raw key as base64 (standard or url-safe). */
export function parsePublicKey(text: string): ParsedPublicKey {
	const trimmed = text.trim();
	const parts = trimmed.split(/\s+/);
	if (parts[0] === KEY_TYPE) {
		const blob = Buffer.from(parts[1] ?? "", "base64");
		const raw = readBlob(blob);
		return { raw, comment: parts.slice(2).join(" ") || null };
	}
	if (parts.length !== 1 || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) {
		throw new PublicKeyFormatError("expected 'ssh-ed25519 AAAA… comment' or the raw 32-byte key in base64");
	}
	const raw = Buffer.from(trimmed, "base64");
	if (raw.length !== ED25519_PUBLIC_KEY_BYTES) {
		throw new PublicKeyFormatError(`a raw Ed25519 public key is 32 bytes, this one is ${raw.length}`);
	}
	return { raw: new Uint8Array(raw), comment: null };
}

function readBlob(blob: Buffer): Uint8Array {
	const read = (at: number): [Buffer, number] => {
		if (at + 4 > blob.length) throw new PublicKeyFormatError("truncated ssh-ed25519 key");
		const len = blob.readUInt32BE(at);
		if (at + 4 + len > blob.length) throw new PublicKeyFormatError("truncated ssh-ed25519 key");
		return [blob.subarray(at + 4, at + 4 + len), at + 4 + len];
	};
	const [type, next] = read(0);
	if (type.toString() !== KEY_TYPE) throw new PublicKeyFormatError(`the key blob says '${type}', not ${KEY_TYPE}`);
	const [key, end] = read(next);
	if (key.length !== ED25519_PUBLIC_KEY_BYTES || end !== blob.length) {
		throw new PublicKeyFormatError("an ssh-ed25519 key holds exactly 32 bytes");
	}
	return new Uint8Array(key);
}

/** OpenSSH's SHA256 fingerprint of the key. */
export function fingerprintOf(raw: Uint8Array): string {
	return `SHA256:${createHash("sha256").update(sshBlob(raw)).digest("base64").replace(/=+$/, "")}`;
}

/** The `.pub` line OpenSSH writes. */
export function formatOpenSshPublicKey(raw: Uint8Array, comment: string): string {
	return `${KEY_TYPE} ${sshBlob(raw).toString("base64")}${comment ? ` ${comment}` : ""}`;
}

/** True when `signature` (64 bytes) is the key's Ed25519 signature of `message`. */
export function verifySignature(raw: Uint8Array, message: string, signature: Uint8Array): boolean {
	if (signature.length !== SIGNATURE_BYTES) return false;
	const key = createPublicKey({
		key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(raw).toString("base64url") },
		format: "jwk",
	});
	return verify(null, Buffer.from(message), key, signature);
}
