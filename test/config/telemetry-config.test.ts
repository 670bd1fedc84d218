import { describe, expect, test } from "bun:test";
import { buildConfig } from "../../src/config/load-config.ts";

const telemetry = (toml: Record<string, unknown> = {}, env: Record<string, string> = {}) =>
	buildConfig({ telemetry: toml }, env).telemetry;

describe("[telemetry] and OTEL_* configuration", () => {
	test("off by default; propagation to upstreams off by default", () => {
		const t = buildConfig({}, {}).telemetry;
		expect(t.enabled).toBe(false);
		expect(t.propagate_to_upstream).toBe(false);
		expect(t.service_name).toBe("interchange");
		expect(t.sample_ratio).toBe(1);
		expect(t.parent_based).toBe(true);
	});

	test("an OTLP endpoint in the environment turns it on; the traces endpoint is used as it is", () => {
		const base = telemetry({}, { OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/" });
		expect(base.enabled).toBe(true);
		expect(base.traces_url).toBe("http://collector:4318/v1/traces");
		const exact = telemetry({}, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://c:9/custom" });
		expect(exact).toMatchObject({ enabled: true, traces_url: "http://c:9/custom" });
	});

	test("the TOML table sets it; the environment wins", () => {
		const t = telemetry(
			{
				enabled: true,
				endpoint: "http://otel:4318",
				service_name: "gw",
				sample_ratio: 0.25,
				propagate_to_upstream: true,
			},
			{ OTEL_SERVICE_NAME: "from-env" },
		);
		expect(t).toMatchObject({
			enabled: true,
			traces_url: "http://otel:4318/v1/traces",
			service_name: "from-env",
			sample_ratio: 0.25,
			propagate_to_upstream: true,
		});
	});

	test("OTEL_SDK_DISABLED and OTEL_TRACES_EXPORTER=none turn it off whatever else says", () => {
		const env = { OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318" };
		expect(telemetry({ enabled: true }, { ...env, OTEL_SDK_DISABLED: "true" }).enabled).toBe(false);
		expect(telemetry({ enabled: true }, { ...env, OTEL_TRACES_EXPORTER: "none" }).enabled).toBe(false);
	});

	test("OTEL_TRACES_SAMPLER and its argument", () => {
		expect(telemetry({}, { OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: "0.1" })).toMatchObject({
			sample_ratio: 0.1,
			parent_based: false,
		});
		expect(telemetry({}, { OTEL_TRACES_SAMPLER: "parentbased_always_off" })).toMatchObject({
			sample_ratio: 0,
			parent_based: true,
		});
		expect(() => telemetry({}, { OTEL_TRACES_SAMPLER: "sometimes" })).toThrow(/OTEL_TRACES_SAMPLER/);
		expect(() => telemetry({}, { OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: "2" })).toThrow(
			/OTEL_TRACES_SAMPLER_ARG/,
		);
	});

	test("export headers from the TOML table and OTEL_EXPORTER_OTLP_HEADERS (URL-encoded values)", () => {
		const t = telemetry(
			{ headers: { "x-a": "1", "x-b": "env:COLLECTOR_TOKEN" } },
			{ COLLECTOR_TOKEN: "s3cret", OTEL_EXPORTER_OTLP_HEADERS: "x-a=2,authorization=Bearer%20tok" },
		);
		expect(t.headers).toEqual({ "x-a": "2", "x-b": "s3cret", authorization: "Bearer tok" });
		expect(() => telemetry({}, { OTEL_EXPORTER_OTLP_HEADERS: "novalue" })).toThrow(/OTEL_EXPORTER_OTLP_HEADERS/);
	});

	test("bad values are refused with the key named", () => {
		expect(() => telemetry({ sampel_ratio: 1 })).toThrow(/telemetry\.sampel_ratio/);
		expect(() => telemetry({ sample_ratio: 1.5 })).toThrow(/telemetry\.sample_ratio/);
		expect(() => telemetry({ enabled: "yes" })).toThrow(/telemetry\.enabled/);
		expect(() => telemetry({ endpoint: "otel:4318" })).toThrow(/telemetry\.endpoint/);
		expect(() => telemetry({}, { OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" })).toThrow(/grpc/);
	});
});
