/** Hex SHA-256 of a string (keys are compared and stored only as this). */
export function sha256Hex(value: string): string {
	// the static form allocates no hasher object: this runs on every request
	return Bun.CryptoHasher.hash("sha256", value, "hex");
}
