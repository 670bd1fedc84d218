import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname, userInfo } from "node:os";
import { dirname } from "node:path";
import { fingerprintOf, formatOpenSshPublicKey } from "../crypto/ed25519.ts";
import { CliError, EXIT } from "./cli-error.ts";
import { readOpenSshPrivateKey } from "./openssh-private-key.ts";

/** The operator's Ed25519 key, as the CLI signs with it. */
export interface Identity {
	privateKey: KeyObject;
	raw: Uint8Array;
	fingerprint: string;
	/** The OpenSSH public key line. */
	publicLine: string;
}

function rawOf(publicKey: KeyObject): Uint8Array {
	const x = publicKey.export({ format: "jwk" }).x;
	if (!x) throw new CliError(EXIT.refused, "not an Ed25519 key");
	return new Uint8Array(Buffer.from(x, "base64url"));
}

function identityOf(privateKey: KeyObject, comment: string): Identity {
	if (privateKey.asymmetricKeyType !== "ed25519") {
		throw new CliError(EXIT.usage, `the key is ${privateKey.asymmetricKeyType}, not Ed25519: run \`ix keygen\``);
	}
	const raw = rawOf(createPublicKey(privateKey));
	return { privateKey, raw, fingerprint: fingerprintOf(raw), publicLine: formatOpenSshPublicKey(raw, comment) };
}

/** Writes a new key pair (private 0600 in a 0700 folder, public `.pub` beside it); never overwrites. */
export function generateIdentity(path: string, force: boolean): Identity {
	if (existsSync(path) && !force) {
		throw new CliError(EXIT.usage, `${path} already exists: use it, pass --key for another path, or --force`);
	}
	mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
	const { privateKey } = generateKeyPairSync("ed25519");
	const id = identityOf(privateKey, `${userInfo().username}@${hostname()}`);
	writeFileSync(path, privateKey.export({ format: "pem", type: "pkcs8" }), { mode: 0o600 });
	chmodSync(path, 0o600);
	writeFileSync(`${path}.pub`, `${id.publicLine}\n`, { mode: 0o644 });
	return id;
}

/** Reads a PKCS#8 PEM key (what `ix keygen` writes) or an unencrypted OpenSSH one (`ssh-keygen -t ed25519`). */
export function loadIdentity(path: string): Identity {
	let text: string;
	try {
		text = readFileSync(path, "utf8");
	} catch {
		throw new CliError(EXIT.usage, `no key at ${path}: run \`ix keygen\` (or pass --key PATH)`);
	}
	const comment = readComment(`${path}.pub`);
	if (text.includes("BEGIN OPENSSH PRIVATE KEY")) return identityOf(readOpenSshPrivateKey(text), comment);
	try {
		return identityOf(createPrivateKey(text), comment);
	} catch (e) {
		if (e instanceof CliError) throw e;
		throw new CliError(EXIT.usage, `${path} is not a readable Ed25519 private key: ${(e as Error).message}`);
	}
}

function readComment(pubPath: string): string {
	try {
		return readFileSync(pubPath, "utf8").trim().split(/\s+/).slice(2).join(" ");
	} catch {
		return "";
	}
}

/** Base64 Ed25519 signature of the exact text. */
export const signMessage = (id: Identity, message: string): string =>
	sign(null, Buffer.from(message), id.privateKey).toString("base64");
