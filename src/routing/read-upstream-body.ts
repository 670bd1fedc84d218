/**
 * Reads an upstream answer's whole body, or null when it is larger than `maxBytes` (the rest is
 * cancelled, never buffered). A declared, uncompressed length within the limit takes the
 * native arrayBuffer() path, as fast as before the cap: HTTP framing holds such a body to its
 * length. Chunked or compressed bodies are counted as they arrive.
 */
export async function readUpstreamBody(res: Response, maxBytes: number): Promise<Uint8Array<ArrayBuffer> | null> {
	const length = res.headers.get("content-length");
	const declared = length === null ? -1 : Number(length);
	if (declared > maxBytes) {
		await res.body?.cancel().catch(() => {});
		return null;
	}
	if (declared >= 0 && !res.headers.has("content-encoding")) return new Uint8Array(await res.arrayBuffer());
	if (!res.body) return new Uint8Array(0);
	const reader = res.body.getReader();
	const parts: Uint8Array[] = [];
	let total = 0;
	for (;;) {
		const { done, value } = await reader.read();
		if (done) break;
		total += value.byteLength;
		if (total > maxBytes) {
			await reader.cancel().catch(() => {});
			return null;
		}
		parts.push(value);
	}
	const out = new Uint8Array(total);
	let at = 0;
	for (const p of parts) {
		out.set(p, at);
		at += p.byteLength;
	}
	return out;
}
