import type { ProviderView } from "../../admin/provider-service.ts";
import type { LogRow } from "../../admin/usage-queries.ts";
import { usageError } from "../cli-error.ts";
import type { Ctx } from "../context.ts";
import { type Column, table } from "../render.ts";
import { accountRows } from "./resources.ts";

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `7d`, `24h`, `30m`, `90s`, `2w` (before now), or an ISO 8601 time, as ISO text. */
export function parseWhen(text: string, now = Date.now()): string {
	const rel = /^(\d+)([smhdw])$/.exec(text.trim());
	if (rel) return new Date(now - Number(rel[1]) * (UNITS[rel[2] as string] ?? 0)).toISOString();
	const ms = Date.parse(text);
	if (Number.isNaN(ms)) throw usageError(`'${text}' is not a time: use 7d, 24h, 30m or an ISO 8601 date`);
	return new Date(ms).toISOString();
}

const when = (v: string | undefined) => (v === undefined ? undefined : parseWhen(v));

/** A usage row: dimension fields (key_id, bucket, …) then the figures. */
type UsageRow = Record<string, unknown>;

const FIGURES = [
	"requests",
	"errors",
	"prompt_tokens",
	"completion_tokens",
	"total_tokens",
	"cost_usd",
	"latency_ms_p50",
	"latency_ms_p99",
	"ttft_ms_p50",
	"ttft_ms_p99",
];

/** The group columns /admin/usage can answer with, in display order. */
const DIMENSIONS = ["key_id", "tenant_id", "model", "provider", "account", "status", "bucket"];

/** Columns for whatever the server grouped by: its group columns first, then the figures it sent. */
export function usageColumns(rows: readonly UsageRow[]): Column<UsageRow>[] {
	const first = rows[0] ?? {};
	const dims = DIMENSIONS.filter((k) => k in first);
	const figures = FIGURES.filter((f) => f in first);
	return [...dims, ...figures].map((f) => [f, (r: UsageRow) => r[f]] as Column<UsageRow>);
}

/** The /admin/usage query a `ix usage` command line asks for. */
export function usageQuery(ctx: Ctx): Record<string, string | undefined> {
	return {
		group_by: ctx.flags.by ?? "model",
		since: when(ctx.flags.since),
		until: when(ctx.flags.until),
		key_id: ctx.flags.key,
		tenant_id: ctx.flags.tenant,
		model: ctx.flags.model,
		provider: ctx.flags.provider,
		account: ctx.flags.account,
		status: ctx.flags.status,
		format: ctx.flags.csv ? "csv" : undefined,
	};
}

export async function usage(ctx: Ctx): Promise<void> {
	const client = ctx.client();
	const query = usageQuery(ctx);
	if (ctx.flags.csv) {
		ctx.out((await client.text("/admin/usage", query)).trimEnd());
		return;
	}
	const res = await client.get<{ data: UsageRow[] }>("/admin/usage", query);
	ctx.print(res, () => table(res.data, usageColumns(res.data)));
}

const LOG_COLUMNS: Column<LogRow>[] = [
	["ts", (r) => r.ts],
	["request_id", (r) => r.request_id],
	["key_id", (r) => r.key_id],
	["model", (r) => r.model],
	["provider", (r) => r.provider],
	["account", (r) => r.account],
	["status", (r) => r.status],
	["tokens", (r) => r.total_tokens],
	["cost_usd", (r) => r.cost_usd],
	["latency_ms", (r) => r.latency_ms],
];

/** Newest rows; with --follow, keeps polling for rows newer than the last one seen (Ctrl-C ends). */
export async function logs(ctx: Ctx): Promise<void> {
	const client = ctx.client();
	const filters = {
		key_id: ctx.flags.key,
		model: ctx.flags.model,
		status: ctx.flags.status,
		until: when(ctx.flags.until),
		limit: ctx.flags.limit ?? (ctx.flags.follow ? "20" : "50"),
	};
	const first = await client.get<{ data: LogRow[]; next_cursor: string | null }>("/admin/logs", {
		...filters,
		since: when(ctx.flags.since),
		cursor: ctx.flags.cursor,
	});
	if (!ctx.flags.follow) {
		ctx.print(first, () =>
			[table(first.data, LOG_COLUMNS), ...(first.next_cursor ? [`more: --cursor ${first.next_cursor}`] : [])].join(
				"\n",
			),
		);
		return;
	}
	const seen = new Set<string>();
	let since = when(ctx.flags.since) ?? new Date(0).toISOString();
	const emit = (rows: LogRow[]) => {
		// the API pages newest first; a follow prints in time order
		for (const r of [...rows].reverse()) {
			if (seen.has(r.request_id)) continue;
			seen.add(r.request_id);
			if (r.ts > since) since = r.ts;
			ctx.out(ctx.json ? JSON.stringify(r) : (table([r], LOG_COLUMNS).split("\n")[1] ?? ""));
		}
	};
	if (!ctx.json) ctx.out(table([{} as LogRow], LOG_COLUMNS).split("\n")[0] ?? "");
	emit(first.data);
	const interval = Number(ctx.flags.interval ?? "1000");
	for (;;) {
		await Bun.sleep(interval);
		// rows of the same millisecond as the newest seen come again: `seen` drops them
		const page = await client.get<{ data: LogRow[] }>("/admin/logs", { ...filters, since, limit: "500" });
		emit(page.data);
	}
}

interface AuditEntry {
	id: string;
	at: string;
	actor: string;
	actor_fingerprint: string | null;
	action: string;
	target_type: string;
	target_id: string | null;
	client_ip: string | null;
	request_id: string | null;
}

export async function audit(ctx: Ctx): Promise<void> {
	const res = await ctx.client().get<{ data: AuditEntry[]; next_cursor: string | null }>("/admin/audit", {
		limit: ctx.flags.limit,
		cursor: ctx.flags.cursor,
		action: ctx.flags.action,
		since: when(ctx.flags.since),
		until: when(ctx.flags.until),
	});
	ctx.print(res, () =>
		[
			table(res.data, [
				["at", (e) => e.at],
				["actor", (e) => e.actor],
				["fingerprint", (e) => e.actor_fingerprint],
				["action", (e) => e.action],
				["target", (e) => (e.target_id ? `${e.target_type}:${e.target_id}` : e.target_type)],
				["client_ip", (e) => e.client_ip],
			]),
			...(res.next_cursor ? [`more: --cursor ${res.next_cursor}`] : []),
		].join("\n"),
	);
}

/** One frame of `ix top`: the latest minute's traffic and every account's health. */
export async function topFrame(ctx: Ctx): Promise<{ summary: Record<string, unknown>; text: string }> {
	const client = ctx.client();
	const [usageRes, providersRes] = await Promise.all([
		client.get<{ data: UsageRow[] }>("/admin/usage", { group_by: "minute", since: parseWhen("5m") }),
		client.get<{ data: ProviderView[] }>("/admin/providers"),
	]);
	const latest = [...usageRes.data].sort((a, b) => String(a.bucket).localeCompare(String(b.bucket))).at(-1);
	const requests = Number(latest?.requests ?? 0);
	const errors = Number(latest?.errors ?? 0);
	const summary = {
		minute: latest?.bucket ?? null,
		requests_per_s: requests / 60,
		error_rate: requests ? errors / requests : 0,
		latency_ms_p99: latest?.latency_ms_p99 ?? null,
		ttft_ms_p99: latest?.ttft_ms_p99 ?? null,
	};
	const accounts = accountRows(providersRes.data);
	const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
	const text = [
		`interchange top — ${client.url} — minute ${summary.minute ?? "(no traffic in the last 5 min)"}`,
		`requests/s ${summary.requests_per_s.toFixed(2)}   errors ${pct(summary.error_rate)}   p99 ${summary.latency_ms_p99 ?? "-"} ms   ttft p99 ${summary.ttft_ms_p99 ?? "-"} ms`,
		"",
		table(accounts, [
			["provider", (a) => a.provider],
			["account", (a) => a.name],
			["state", (a) => a.live?.state ?? (a.enabled ? "-" : "disabled")],
			["inflight", (a) => a.live?.inflight],
			["errors", (a) => (a.live ? pct(a.live.error_ratio) : null)],
			["ttft_ms", (a) => (a.live?.ewma_ttft_ms == null ? null : Math.round(a.live.ewma_ttft_ms))],
		]),
	].join("\n");
	return { summary: { ...summary, accounts }, text };
}

/** Redraws every second until Ctrl-C; `--once` prints one frame (scripts, tests). */
export async function top(ctx: Ctx): Promise<void> {
	if (ctx.flags.once) {
		const frame = await topFrame(ctx);
		ctx.print(frame.summary, () => frame.text);
		return;
	}
	for (;;) {
		const frame = await topFrame(ctx);
		ctx.out(`\x1b[2J\x1b[H${frame.text}`);
		await Bun.sleep(1_000);
	}
}
