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
	return readCapped(res.body, maxBytes);
}

/**
 * A body's bytes counted as they arrive, or null past `maxBytes` (the rest is cancelled, never
 * buffered): for bodies whose length is not declared (chunked), upstream answers and client
 * requests alike.
 */
export async function readCapped(
	body: ReadableStream<Uint8Array> | null,
	maxBytes: number,
): Promise<Uint8Array<ArrayBuffer> | null> {
	if (!body) return new Uint8Array(0);
	const reader = body.getReader();
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
