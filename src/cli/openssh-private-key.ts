import { createPrivateKey, type KeyObject } from "node:crypto";
import { CliError, EXIT } from "./cli-error.ts";

const MAGIC = "openssh-key-v1\0";

/**
 * An unencrypted `-----BEGIN OPENSSH PRIVATE KEY-----` Ed25519 key (ssh-keygen's default
 * format), so operators can log in with the key they already have. node:crypto does not read this
 * format; the layout is PROTOCOL.key in OpenSSH's sources.
 */
export function readOpenSshPrivateKey(pem: string): KeyObject {
	const body = pem.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, "");
	const buf = Buffer.from(body, "base64");
	if (buf.subarray(0, MAGIC.length).toString("latin1") !== MAGIC) throw bad("not an openssh-key-v1 key");
	let at = MAGIC.length;
	const str = (): Buffer => {
		if (at + 4 > buf.length) throw bad("truncated key");
		const len = buf.readUInt32BE(at);
		const out = buf.subarray(at + 4, at + 4 + len);
		if (out.length !== len) throw bad("truncated key");
		at += 4 + len;
		return out;
	};
	const cipher = str().toString();
	str(); // kdf name
	str(); // kdf options
	if (cipher !== "none") {
		throw new CliError(EXIT.usage, "the OpenSSH key is passphrase-protected: use `ix keygen`, or an unencrypted copy");
	}
	at += 4; // number of keys (one)
	str(); // public key blob
	const priv = str();
	// the private section: two check ints (8 bytes), then the key type, the public key and seed‖public
	const sub = (b: Buffer, o: number): [Buffer, number] => {
		const len = b.readUInt32BE(o);
		return [b.subarray(o + 4, o + 4 + len), o + 4 + len];
	};
	const [type, o1] = sub(priv, 8);
	if (type.toString() !== "ssh-ed25519") throw bad(`the key is ${type}, not ssh-ed25519`);
	const [, o2] = sub(priv, o1);
	const [secret] = sub(priv, o2);
	if (secret.length !== 64) throw bad("unexpected Ed25519 secret length");
	return createPrivateKey({
		key: {
			kty: "OKP",
			crv: "Ed25519",
			d: secret.subarray(0, 32).toString("base64url"),
			x: secret.subarray(32).toString("base64url"),
		},
		format: "jwk",
	});
}

const bad = (why: string) => new CliError(EXIT.usage, `cannot read the OpenSSH private key: ${why}`);
