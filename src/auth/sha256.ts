/** Hex SHA-256 of a string (keys are compared and stored only as this). */
export function sha256Hex(value: string): string {
	return new Bun.CryptoHasher("sha256").update(value).digest("hex");
}
