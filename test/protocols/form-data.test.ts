import { describe, expect, test } from "bun:test";
import { type FormBody, findFormFields, formBoundary, withFormField } from "../../src/protocols/form-data.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A multipart body as clients write it: a binary file part, then text fields. */
function form(boundary: string, fileBytes: Uint8Array, fields: [string, string][], fileFirst = true): Uint8Array {
	const file = [
		enc.encode(
			`--${boundary}\r\nContent-Disposition: form-data; filename="a.wav"; name="file"\r\nContent-Type: audio/wav\r\n\r\n`,
		),
		fileBytes,
		enc.encode("\r\n"),
	];
	const text = fields.map(([k, v]) =>
		enc.encode(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`),
	);
	const parts = fileFirst ? [...file, ...text] : [...text, ...file];
	return Buffer.concat([...parts, enc.encode(`--${boundary}--\r\n`)]);
}

describe("formBoundary", () => {
	test("plain and quoted boundaries of multipart/form-data; anything else is null", () => {
		expect(formBoundary("multipart/form-data; boundary=abc123")).toBe("abc123");
		expect(formBoundary('multipart/form-data; charset=utf-8; boundary="a b:c"')).toBe("a b:c");
		expect(formBoundary("application/json")).toBeNull();
		expect(formBoundary("multipart/form-data")).toBeNull();
		expect(formBoundary(null)).toBeNull();
	});
});

describe("findFormFields", () => {
	// file bytes that contain CRLFs, dashes and a look-alike of a part header
	const tricky = enc.encode('\r\n--not-it\r\nContent-Disposition: form-data; name="model"\r\n\r\nfake\r\n\x00\xff');

	test("finds text fields after or before a binary file part, never inside it", () => {
		for (const fileFirst of [true, false]) {
			const bytes = form(
				"XyZ",
				tricky,
				[
					["model", "whisper-1"],
					["stream", "true"],
				],
				fileFirst,
			);
			const f = findFormFields(bytes, "XyZ", ["model", "stream"]);
			expect(f.model.value).toBe("whisper-1");
			expect(f.stream.value).toBe("true");
			expect(dec.decode(bytes.subarray(f.model.start, f.model.end))).toBe("whisper-1");
		}
	});

	test("a file part named like a wanted field is skipped; absent fields are absent", () => {
		const bytes = form("b", enc.encode("RIFF"), []);
		expect(findFormFields(bytes, "b", ["file", "model"])).toEqual({});
	});
});

describe("withFormField", () => {
	test("replaces one value and keeps every other byte", () => {
		const fileBytes = new Uint8Array(4096).map((_, i) => (i * 7) & 0xff);
		const bytes = new Uint8Array(form("bnd", fileBytes, [["model", "alias"]]));
		const body: FormBody = {
			bytes,
			contentType: "multipart/form-data; boundary=bnd",
			fields: findFormFields(bytes, "bnd", ["model"]),
		};
		const out = withFormField(body, "model", "gpt-4o-transcribe");
		const again = findFormFields(out, "bnd", ["model"]);
		expect(again.model.value).toBe("gpt-4o-transcribe");
		const m = body.fields.model;
		expect(Buffer.from(out.subarray(0, m.start)).equals(Buffer.from(bytes.subarray(0, m.start)))).toBe(true);
		expect(Buffer.from(out.subarray(again.model.end)).equals(Buffer.from(bytes.subarray(m.end)))).toBe(true);
		expect(withFormField(body, "model", "alias")).toBe(bytes);
	});
});
