import { describe, expect, test } from "bun:test";
import { BodyLog } from "../../src/data-plane/body-log.ts";
import type { RequestBodyEvent } from "../../src/usage/request-body-event.ts";
import { makeUsageEvent } from "../support/usage-events.ts";

const sinkOf = () => {
	const got: RequestBodyEvent[] = [];
	return { got, sink: { write: (e: RequestBodyEvent) => got.push(e) } };
};
const text = { kind: "text" as const, text: "{}" };

describe("BodyLog", () => {
	test("none keeps nothing (no capture at all); all keeps every request once", () => {
		const { got, sink } = sinkOf();
		expect(BodyLog.for(sink, "none", makeUsageEvent(), "{}", 1024)).toBeNull();
		const log = BodyLog.for(sink, "all", makeUsageEvent(), "{}", 1024);
		log?.finish(200, null, text);
		log?.finish(500, "X", text);
		expect(got.length).toBe(1);
		expect(log?.streamKeepBytes).toBe(16 * 1024);
	});

	test("errors keeps failed and broken-off requests only", () => {
		const { got, sink } = sinkOf();
		BodyLog.for(sink, "errors", makeUsageEvent(), "{}", 1024)?.finish(200, null, text);
		expect(got.length).toBe(0);
		BodyLog.for(sink, "errors", makeUsageEvent(), "{}", 1024)?.finish(502, "UPSTREAM_BAD_RESPONSE", text);
		BodyLog.for(sink, "errors", makeUsageEvent(), "{}", 1024)?.finish(200, "UPSTREAM_STREAM_BROKEN", null);
		expect(got.length).toBe(2);
	});
});
