import { GatewayError } from "../errors/gateway-error.ts";

const RELATIVE = /^(\d{1,6})(m|h|d|w)$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 } as const;

/**
 * A time filter as epoch ms: ISO 8601, epoch milliseconds (number or digits), a Date, or a
 * span back from `now` (`30m`, `24h`, `7d`, `2w`) so a chart's "last 7 days" needs no clock on
 * the client. Null when absent.
 */
export function parseTimeParam(value: unknown, param: string, now = Date.now()): number | null {
	if (value === undefined || value === null || value === "") return null;
	let ms: number;
	const relative = typeof value === "string" ? RELATIVE.exec(value) : null;
	if (relative) ms = now - Number(relative[1]) * UNIT_MS[relative[2] as keyof typeof UNIT_MS];
	else if (value instanceof Date) ms = value.getTime();
	else if (typeof value === "number" || (typeof value === "string" && /^\d+$/.test(value))) ms = Number(value);
	else if (typeof value === "string") ms = Date.parse(value);
	else ms = Number.NaN;
	if (!Number.isFinite(ms) || Number.isNaN(new Date(ms).getTime()))
		throw new GatewayError(
			"PLATFORM_INVALID_REQUEST",
			`${param} must be an ISO 8601 date, epoch milliseconds, or a span back from now such as 30m, 24h, 7d`,
			{ param },
		);
	return ms;
}
