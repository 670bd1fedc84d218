import { action, badge, fmtTime, h, table, title } from "../dom.ts";
import { apiForm } from "../forms.ts";
import type { Page } from "../page.ts";

interface Session {
	id: string;
	fingerprint: string | null;
	client_ip: string;
	created_at: string;
	expires_at: string;
	revoked_at: string | null;
}

interface AdminKey {
	id: string;
	name: string;
	fingerprint: string;
	created_at: string;
	revoked_at: string | null;
}

const state = (revoked: string | null, expires?: string) =>
	revoked ? badge("revoked") : expires && Date.parse(expires) < Date.now() ? badge("expired") : badge("active");

/** Who can reach the admin API: operator sessions and the Ed25519 keys they log in with. */
export const accessPage: Page = async ({ api, refresh }) => {
	const [sessions, keys] = await Promise.all([
		api.get<{ data: Session[] }>("/sessions", { include_inactive: "true" }),
		api.get<{ data: AdminKey[] }>("/admin-keys", { include_revoked: "true" }),
	]);
	return h(
		"div",
		null,
		title("Sessions and admin keys"),
		table(
			"Admin sessions",
			[
				{ label: "Session", cell: (s) => h("code", null, s.id) },
				{ label: "Key fingerprint", cell: (s) => (s.fingerprint ? h("code", null, s.fingerprint) : "admin token") },
				{ label: "From", cell: (s) => s.client_ip },
				{ label: "Created", cell: (s) => fmtTime(s.created_at) },
				{ label: "Expires", cell: (s) => fmtTime(s.expires_at) },
				{ label: "State", cell: (s) => state(s.revoked_at, s.expires_at) },
				{
					label: "Actions",
					cell: (s) =>
						s.revoked_at
							? null
							: action(
									"Revoke",
									async () => {
										await api.call("DELETE", `/sessions/${encodeURIComponent(s.id)}`);
										refresh();
									},
									{ danger: true, confirm: `Revoke session ${s.id}?`, name: `Revoke session ${s.id}` },
								),
				},
			],
			sessions.data,
			"No sessions.",
		),
		h("h2", null, "Admin keys"),
		h(
			"details",
			{ class: "panel" },
			h("summary", null, "Enrol an admin key"),
			apiForm({
				label: "Enrol an admin key",
				specs: [
					{
						name: "public_key",
						label: "Public key",
						kind: "textarea",
						required: true,
						wide: true,
						help: "ssh-ed25519 AAAA… or raw base64",
					},
					{ name: "name", label: "Name", kind: "text" },
				],
				mode: "create",
				submit: "Enrol key",
				onSubmit: async (body) => {
					await api.call("POST", "/admin-keys", body);
					refresh();
				},
			}),
		),
		table(
			"Admin keys",
			[
				{ label: "Name", cell: (k) => k.name },
				{ label: "Fingerprint", cell: (k) => h("code", null, k.fingerprint) },
				{ label: "Created", cell: (k) => fmtTime(k.created_at) },
				{ label: "State", cell: (k) => state(k.revoked_at) },
				{
					label: "Actions",
					cell: (k) =>
						k.revoked_at
							? null
							: action(
									"Revoke",
									async () => {
										await api.call("DELETE", `/admin-keys/${encodeURIComponent(k.id)}`);
										refresh();
									},
									{
										danger: true,
										confirm: `Revoke ${k.name}? Its sessions end too.`,
										name: `Revoke admin key ${k.name}`,
									},
								),
				},
			],
			keys.data,
			"No admin keys enrolled.",
		),
	);
};
