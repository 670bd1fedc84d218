import {
	type AttributeValue,
	type HrTime,
	type SpanContext,
	type SpanKind,
	type SpanStatus,
	TraceFlags,
} from "@opentelemetry/api";
import { addHrTimes, hrTimeDuration, type InstrumentationScope, millisToHrTime, TraceState } from "@opentelemetry/core";
import type { Resource } from "@opentelemetry/resources";
import { type IdGenerator, RandomIdGenerator, type ReadableSpan, type TimedEvent } from "@opentelemetry/sdk-trace";

type Attr = string | number | boolean;

/**
 * One request's finished spans as an array of primitives: what the request thread records and
 * posts (in batches, as JSON) to the trace exporter's thread, which turns it into the SDK's
 * ReadableSpans for the official OTLP exporter. Plain arrays, because building, sending and
 * reading them costs far less than the SDK's Span objects, their attribute checks and hrtimes.
 *
 * Layout: a header, then the spans in the order they ended; the last one is the server span,
 * every other one is its child.
 * - header: traceId, parent span id, tracestate ("" each: none; a missing traceId is drawn
 *   by the exporter's thread, as no one on the request path needed it)
 * - span: name, kind, start, end (performance.now() of the recording thread), span id ("":
 *   drawn later), status code, status message, attributes (key/value pairs; a later pair wins,
 *   as with setAttribute), events (name/time pairs)
 */
export type TraceRecord = (Attr | readonly Attr[])[];

/** Fields before the first span, and per span. */
const HEADER_FIELDS = 3;
const SPAN_FIELDS = 9;

const NO_EVENTS: readonly (string | number)[] = [];

/** Writes the spans of one trace into a TraceRecord. */
export class SpanRecorder {
	readonly record: TraceRecord;

	constructor(traceId: string, parentSpanId: string, traceState: string) {
		this.record = [traceId, parentSpanId, traceState];
	}

	span(
		name: string,
		kind: SpanKind,
		start: number,
		end: number,
		spanId: string,
		status: SpanStatus | null,
		attributes: readonly Attr[],
		events: readonly (string | number)[] = NO_EVENTS,
	): void {
		this.record.push(name, kind, start, end, spanId, status?.code ?? 0, status?.message ?? "", attributes, events);
	}
}

/** What the exporter's thread knows of the recording thread and its service. */
export interface TraceSource {
	resource: Resource;
	scope: InstrumentationScope;
	/** performance.timeOrigin of the recording thread (epoch ms). */
	timeOrigin: number;
}

/** A finished span as the SDK's exporters read it. */
class RecordedSpan implements ReadableSpan {
	readonly links = [];
	readonly ended = true;
	readonly droppedAttributesCount = 0;
	readonly droppedEventsCount = 0;
	readonly droppedLinksCount = 0;
	readonly duration: HrTime;

	constructor(
		readonly name: string,
		readonly kind: SpanKind,
		private readonly context: SpanContext,
		readonly parentSpanContext: SpanContext | undefined,
		readonly startTime: HrTime,
		readonly endTime: HrTime,
		readonly status: SpanStatus,
		readonly attributes: Record<string, AttributeValue>,
		readonly events: TimedEvent[],
		readonly resource: Resource,
		readonly instrumentationScope: InstrumentationScope,
	) {
		this.duration = hrTimeDuration(startTime, endTime);
	}

	spanContext(): SpanContext {
		return this.context;
	}
}

/** Turns TraceRecords back into ReadableSpans, on the exporter's thread. */
export class TraceReader {
	private readonly ids: IdGenerator = new RandomIdGenerator();
	private readonly origin: HrTime;

	constructor(private readonly source: TraceSource) {
		this.origin = millisToHrTime(source.timeOrigin);
	}

	private time(ms: number): HrTime {
		return addHrTimes(this.origin, millisToHrTime(ms));
	}

	/** The spans of one record, server span last. */
	read(r: TraceRecord): ReadableSpan[] {
		const traceId = (r[0] as string) || this.ids.generateTraceId();
		const remoteParent = r[1] as string;
		// a caller's tracestate goes on with every span of its trace, as the SDK does
		const state = r[2] ? new TraceState(r[2] as string) : undefined;
		const parent: SpanContext | undefined = remoteParent
			? { traceId, spanId: remoteParent, traceFlags: TraceFlags.SAMPLED, isRemote: true, traceState: state }
			: undefined;
		const count = (r.length - HEADER_FIELDS) / SPAN_FIELDS;
		const spans: ReadableSpan[] = new Array(count);
		let server: SpanContext | undefined;
		// the server span (the last) first, so that its children know its id
		for (let s = count - 1; s >= 0; s--) {
			const i = HEADER_FIELDS + s * SPAN_FIELDS;
			const context: SpanContext = {
				traceId,
				spanId: (r[i + 4] as string) || this.ids.generateSpanId(),
				traceFlags: TraceFlags.SAMPLED,
				traceState: state,
			};
			const code = r[i + 5] as number;
			const message = r[i + 6] as string;
			const pairs = r[i + 7] as readonly Attr[];
			const attributes: Record<string, AttributeValue> = {};
			for (let a = 0; a < pairs.length; a += 2) attributes[pairs[a] as string] = pairs[a + 1];
			const marks = r[i + 8] as readonly (string | number)[];
			const events: TimedEvent[] = [];
			for (let e = 0; e < marks.length; e += 2)
				events.push({ name: marks[e] as string, time: this.time(marks[e + 1] as number) });
			spans[s] = new RecordedSpan(
				r[i] as string,
				r[i + 1] as SpanKind,
				context,
				server ?? parent,
				this.time(r[i + 2] as number),
				this.time(r[i + 3] as number),
				message ? { code, message } : { code },
				attributes,
				events,
				this.source.resource,
				this.source.scope,
			);
			server ??= context;
		}
		return spans;
	}
}
