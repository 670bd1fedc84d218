const VALID_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export interface RequestIds {
	/** The gateway's own id: unique, time-ordered; the audit row is keyed by it. */
	id: string;
	/** A valid `x-request-id` the client sent, echoed back; null when absent or malformed. */
	clientId: string | null;
	/** What the client sees in `x-request-id` and error bodies. */
	visible: string;
}

/**
 * A client's own request id is propagated (echoed in the header, error bodies and logs), but
 * the audit row is keyed by an id the gateway mints, so a client that reuses ids can never
 * make two requests collapse into one usage row.
 */
export function requestIdsFor(headers: Headers): RequestIds {
	const id = `req_${Bun.randomUUIDv7()}`;
	const given = headers.get("x-request-id");
	const clientId = given && VALID_ID.test(given) ? given : null;
	return { id, clientId, visible: clientId ?? id };
}
