import type { AlertEvent } from "../config/alerts-config.ts";

/** One alert, as every webhook format renders it. */
export interface Alert {
	/** Unique per alert; retries of one alert carry the same id (receivers can de-duplicate on it). */
	id: string;
	event: AlertEvent;
	severity: "info" | "warning" | "critical";
	/** One line. */
	title: string;
	/** What happened, with figures, in a sentence or two. */
	text: string;
	/** Machine-readable facts (subject, figures, account, …). */
	details: Record<string, string | number | null>;
	/** ISO 8601. */
	at: string;
}

export function newAlert(
	event: AlertEvent,
	severity: Alert["severity"],
	title: string,
	text: string,
	details: Alert["details"],
	now: number,
): Alert {
	return { id: `alert_${crypto.randomUUID()}`, event, severity, title, text, details, at: new Date(now).toISOString() };
}
