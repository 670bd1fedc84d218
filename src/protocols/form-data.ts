/**
 * multipart/form-data bodies (file uploads: images to edit, audio to transcribe) pass through
 * as the client's bytes. The gateway reads only the few small text fields it routes by, by
 * scanning part headers with a native byte search; file contents are skipped, never decoded.
 */

/** A text field's value and its byte range within the body. */
export interface FormField {
	value: string;
	start: number;
	end: number;
}

export interface FormBody {
	bytes: Uint8Array<ArrayBuffer>;
	/** The client's Content-Type, boundary included: forwarded untouched. */
	contentType: string;
	fields: Readonly<Record<string, FormField>>;
}

/** Longest field value read; longer ones (never a model id) are left alone. */
const MAX_VALUE_BYTES = 1024;
const HEADER_END = Buffer.from("\r\n\r\n");
const NAME_RE = /(?:^|[;\s])name="([^"]*)"/i;

/** The boundary of a multipart/form-data Content-Type, or null for anything else. */
export function formBoundary(contentType: string | null): string | null {
	if (!contentType || !/^multipart\/form-data\s*;/i.test(contentType)) return null;
	const m = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
	return m ? (m[1] ?? m[2]) : null;
}

/** The text fields named in `names`, located in the body; a file part of that name is skipped. */
export function findFormFields(
	bytes: Uint8Array,
	boundary: string,
	names: readonly string[],
): Record<string, FormField> {
	const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	// every delimiter but the first is preceded by CRLF, which belongs to it
	const delimiter = Buffer.from(`\r\n--${boundary}`);
	const dashBoundary = delimiter.subarray(2);
	const found: Record<string, FormField> = {};
	let wanted = names.length;
	let at = buf.indexOf(dashBoundary);
	while (at !== -1 && wanted > 0) {
		const afterDelimiter = at + dashBoundary.length;
		if (buf[afterDelimiter] === 45 && buf[afterDelimiter + 1] === 45) break; // "--": the closing delimiter
		const headersStart = afterDelimiter + 2; // past its CRLF
		const headersEnd = buf.indexOf(HEADER_END, headersStart);
		if (headersEnd === -1) break;
		const valueStart = headersEnd + 4;
		const next = buf.indexOf(delimiter, valueStart);
		if (next === -1) break;
		const headers = buf.toString("latin1", headersStart, headersEnd);
		const name = NAME_RE.exec(headers)?.[1];
		if (
			name !== undefined &&
			names.includes(name) &&
			!(name in found) &&
			!/filename=/i.test(headers) &&
			next - valueStart <= MAX_VALUE_BYTES
		) {
			found[name] = { value: buf.toString("utf8", valueStart, next), start: valueStart, end: next };
			wanted--;
		}
		at = next + 2;
	}
	return found;
}

/** The body with one located field's value replaced (e.g. the upstream's model id for an alias). */
export function withFormField(form: FormBody, name: string, value: string): Uint8Array<ArrayBuffer> {
	const field = form.fields[name];
	if (!field || field.value === value) return form.bytes;
	const replacement = Buffer.from(value, "utf8");
	const out = new Uint8Array(form.bytes.byteLength - (field.end - field.start) + replacement.byteLength);
	out.set(form.bytes.subarray(0, field.start), 0);
	out.set(replacement, field.start);
	out.set(form.bytes.subarray(field.end), field.start + replacement.byteLength);
	return out;
}
