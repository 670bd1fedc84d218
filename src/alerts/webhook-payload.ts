import { createHmac } from "node:crypto";
import type { AlertFormat } from "../config/alerts-config.ts";
import type { Alert } from "./alert.ts";

/** The header carrying `sha256=<hex HMAC-SHA256 of the body>` when the webhook has a secret. */
export const SIGNATURE_HEADER = "x-interchange-signature";

const SLACK_EMOJI: Record<Alert["severity"], string> = {
	info: ":information_source:",
	warning: ":warning:",
	critical: ":rotating_light:",
};

/**
 * The request body for one webhook: the alert itself as JSON, or Slack's incoming-webhook
 * shape (`text` for notifications, `blocks` for the message), which Mattermost, Rocket.Chat
 * and Discord's Slack-compatible endpoints also take.
 */
export function renderPayload(alert: Alert, format: AlertFormat): string {
	if (format === "json") return JSON.stringify({ object: "alert", ...alert });
	const facts = Object.entries(alert.details)
		.filter(([, v]) => v !== null)
		.map(([k, v]) => `*${k}*: ${v}`)
		.join("\n");
	return JSON.stringify({
		text: `${SLACK_EMOJI[alert.severity]} ${alert.title}`,
		blocks: [
			{ type: "header", text: { type: "plain_text", text: alert.title.slice(0, 150) } },
			{ type: "section", text: { type: "mrkdwn", text: alert.text } },
			...(facts ? [{ type: "section", text: { type: "mrkdwn", text: facts } }] : []),
			{ type: "context", elements: [{ type: "mrkdwn", text: `${alert.event} · ${alert.at} · ${alert.id}` }] },
		],
	});
}

export function signPayload(secret: string, body: string): string {
	return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}
