import { describe, expect, test } from "bun:test";
import { EventLoopLag, recordProcessMetrics, recordThreadMetrics } from "../../src/metrics/process-metrics.ts";
import { MetricsRegistry, mergeSnapshots, renderPrometheus } from "../../src/metrics/registry.ts";
import { requestMetricsListener } from "../../src/metrics/request-metrics.ts";
import { makeUsageEvent } from "../support/usage-events.ts";
import { waitFor } from "../support/wait-for.ts";

describe("process metrics", () => {
	test("a blocked event loop shows as lag", async () => {
		const lag = new EventLoopLag().start();
		try {
			expect(lag.seconds()).toBeLessThan(0.2);
			Bun.sleepSync(400); // the thread is stuck: the sampler fires late
			await waitFor(() => lag.seconds() >= 0.1, { what: "the lag to be noticed" });
		} finally {
			lag.stop();
		}
	});

	test("per-thread series keep their own label when workers' snapshots are summed", () => {
		const lag = new EventLoopLag();
		const a = new MetricsRegistry();
		const b = new MetricsRegistry();
		recordThreadMetrics(a, "worker-0", lag);
		recordThreadMetrics(b, "worker-1", lag);
		recordProcessMetrics(b);
		const text = renderPrometheus(mergeSnapshots([a.snapshot(), b.snapshot()]));
		expect(text).toMatch(/^interchange_heap_used_bytes\{thread="worker-0"\} [1-9]\d*$/m);
		expect(text).toMatch(/^interchange_heap_used_bytes\{thread="worker-1"\} [1-9]\d*$/m);
		expect(text).toMatch(/^interchange_event_loop_lag_seconds\{thread="worker-1"\} 0$/m);
		expect(text).toMatch(/^process_resident_memory_bytes [1-9]\d*$/m);
		expect(text).toMatch(/^process_cpu_seconds_total [\d.]+$/m);
	});
});

describe("latency histograms", () => {
	test("latency and time to first token are labelled by model and provider; unknown models count as other", () => {
		const reg = new MetricsRegistry();
		const listen = requestMetricsListener(reg, (_p, m) => m === "gpt-4o-mini");
		listen(makeUsageEvent({ provider: "openai", model: "gpt-4o-mini", latency_ms: 120, ttft_ms: 40 }));
		listen(makeUsageEvent({ provider: "openai", model: "made-up-1", latency_ms: 80, ttft_ms: null }));
		const text = renderPrometheus(reg.snapshot());
		const l = 'route="/v1/chat/completions",model="gpt-4o-mini",provider="openai"';
		expect(text).toContain(`interchange_request_duration_seconds_count{${l}} 1`);
		expect(text).toContain(`interchange_time_to_first_token_seconds_bucket{${l},le="0.05"} 1`);
		expect(text).toContain(
			'interchange_request_duration_seconds_count{route="/v1/chat/completions",model="other",provider="openai"} 1',
		);
		expect(text).not.toContain("made-up-1");
	});
});
