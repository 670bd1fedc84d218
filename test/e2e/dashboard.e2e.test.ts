import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { type GatewayServer, startGatewayServer } from "../support/gateway-server.ts";
import { type MockUpstream, startMockUpstream } from "../support/mock-upstream.ts";

/** The Grafana dashboard in deploy/ reads only metric names a real /metrics exports. */

const KEY = "sk-dashboard-client";
const DASHBOARD = join(import.meta.dir, "..", "..", "deploy", "grafana", "interchange.json");

interface Panel {
	type: string;
	title: string;
	targets?: { expr: string }[];
}

/** PromQL words that are not metric names. */
const PROMQL_WORDS = new Set([
	"by",
	"without",
	"on",
	"ignoring",
	"group_left",
	"group_right",
	"bool",
	"and",
	"or",
	"unless",
	"offset",
	"le",
]);

/**
 * The metric names one PromQL expression reads: label matchers, ranges, grouping clauses,
 * strings, Grafana variables and numbers removed, what is left that is not a function call
 * or a keyword is a metric name.
 */
function metricNames(expr: string): string[] {
	const bare = expr
		.replace(/"(?:[^"\\]|\\.)*"/g, "")
		.replace(/\{[^}]*\}/g, "")
		.replace(/\[[^\]]*\]/g, "")
		.replace(/\b(?:by|without|on|ignoring)\s*\([^)]*\)/g, "")
		.replace(/\$\w+/g, "");
	const names: string[] = [];
	for (const m of bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*(\s*\()?/g)) {
		if (m[1] || PROMQL_WORDS.has(m[0])) continue;
		names.push(m[0]);
	}
	return names;
}

let mock: MockUpstream;
let gw: GatewayServer;
let dir: string;
beforeAll(async () => {
	mock = await startMockUpstream();
	dir = mkdtempSync(join(tmpdir(), "ix-dashboard-"));
	const config = join(dir, "gateway.toml");
	writeFileSync(
		config,
		`
[auth]
static_keys = ["${KEY}"]

[routing]
strategy = "first_available"

[[providers]]
name = "pool"
type = "openai"
base_url = "${mock.url}/v1"
models = ["gpt-4o-mini"]
  [[providers.accounts]]
  name = "broken"
  api_key = "acct-fail503"
  [[providers.accounts]]
  name = "healthy"
  api_key = "acct-healthy"

[[providers]]
name = "doomed"
type = "openai"
base_url = "${mock.url}/v1"
models = ["doomed-model"]
api_key = "d-fail503"
`,
	);
	gw = await startGatewayServer({ env: { GATEWAY_CONFIG: config, LOG_LEVEL: "warn" } });
}, 60_000);
afterAll(async () => {
	await gw?.cleanup();
	await mock?.stop();
	rmSync(dir, { recursive: true, force: true });
});

describe("deploy/grafana/interchange.json", () => {
	test("the expression parser finds metric names and nothing else", () => {
		expect(
			metricNames(
				'histogram_quantile(0.95, sum by (le, model) (rate(x_bucket{model=~"$model"}[$__rate_interval]))) / on (a) y * 3600',
			),
		).toEqual(["x_bucket", "y"]);
	});

	test("every metric name in the dashboard's queries exists in a real /metrics scrape after traffic", async () => {
		const client = new OpenAI({ apiKey: KEY, baseURL: `${gw.url}/v1`, maxRetries: 0 });
		// a stream that fails over once (time to first token, failovers, tokens, spend) ...
		const stream = await client.chat.completions.create({
			model: "gpt-4o-mini",
			stream: true,
			stream_options: { include_usage: true },
			messages: [{ role: "user", content: "hello dashboard" }],
		});
		for await (const _ of stream) {
			// read to the end
		}
		await client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "again" }] });
		// ... and one every account fails (upstream errors)
		const doomed = await fetch(`${gw.url}/v1/chat/completions`, {
			method: "POST",
			headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
			body: JSON.stringify({ model: "doomed-model", messages: [{ role: "user", content: "x" }] }),
		});
		expect(doomed.status).toBeGreaterThanOrEqual(500);
		await doomed.arrayBuffer();

		const scrape = await (await fetch(`${gw.url}/metrics`)).text();
		const exported = new Set(
			scrape
				.split("\n")
				.filter((l) => l && !l.startsWith("#"))
				.map((l) => l.split(/[{ ]/, 1)[0]),
		);

		const dashboard = (await Bun.file(DASHBOARD).json()) as { panels: Panel[] };
		const graphs = dashboard.panels.filter((p) => p.type !== "row");
		expect(graphs.length).toBeGreaterThan(8);
		const used = new Set<string>();
		for (const panel of graphs) {
			expect(panel.targets?.length ?? 0).toBeGreaterThan(0);
			for (const t of panel.targets ?? []) {
				const names = metricNames(t.expr);
				expect(names.length).toBeGreaterThan(0);
				for (const n of names) used.add(n);
			}
		}
		const missing = [...used].filter((n) => !exported.has(n));
		expect(missing).toEqual([]);
		// the dashboard covers latency, first token, process and event loop
		for (const n of [
			"interchange_request_duration_seconds_bucket",
			"interchange_time_to_first_token_seconds_bucket",
			"process_resident_memory_bytes",
			"interchange_event_loop_lag_seconds",
			"interchange_heap_used_bytes",
		]) {
			expect(used.has(n)).toBe(true);
		}
	}, 30_000);
});
