import type { TSchema } from "@sinclair/typebox";
import { ModelGroupBody, ModelGroupPatch } from "../config/model-group.ts";
import { ModelPriceSchema } from "../config/model-price.ts";
import { AuditQuery } from "./admin-audit.ts";
import { AdminKeyBody, ChallengeBody, ConsoleSessionBody, SessionBody } from "./admin-login-routes.ts";
import type { QuerySchema } from "./admin-query.ts";
import { CreateAlertBody, PatchAlertBody } from "./alerts.ts";
import { CreateKeyBody, KeyListQuery, PatchKeyBody } from "./keys.ts";
import { PriceListQuery } from "./prices.ts";
import { CreateAccountBody, CreateProviderBody, PatchAccountBody, PatchProviderBody } from "./provider-schemas.ts";
import { CreateTenantBody, PatchTenantBody } from "./tenants.ts";
import { LogParams, UsageParams } from "./usage-queries.ts";

export interface AdminRoute {
	method: "GET" | "POST" | "PATCH" | "PUT" | "DELETE";
	/** Under /admin, in Elysia's spelling (`:id`). */
	path: string;
	summary: string;
	body?: TSchema;
	query?: QuerySchema;
	/** The success answer, in words. */
	response: string;
	/** The success status when it is not 200. */
	status?: number;
}

/**
 * Every admin route, the source of /admin/openapi.json and /admin/reference. The schemas are
 * the ones the handlers validate with (bodies are read inside handlers, after the token
 * check, so Elysia's own schema plugins cannot see them); a test keeps this table and the
 * app's routes equal.
 */
export const ADMIN_ROUTES: readonly AdminRoute[] = [
	{ method: "GET", path: "/openapi.json", summary: "This document", response: "the OpenAPI 3.1 document" },
	{
		method: "GET",
		path: "/reference",
		summary: "The API reference page",
		response: "HTML rendered from this document",
	},
	{
		method: "GET",
		path: "/logs",
		summary: "Request log rows, newest first",
		query: LogParams,
		response: "{object: list, data: request_logs rows, next_cursor}",
	},
	{
		method: "GET",
		path: "/usage",
		summary: "Usage aggregates over any filters and up to 3 dimensions",
		query: UsageParams,
		response:
			"{object: list, group_by, since, until, truncated, columns, data}; each row has its group columns (key_id, tenant_id, model, provider, account, status, bucket) and requests, errors, unpriced_requests, prompt_tokens, completion_tokens, total_tokens, cost_usd, latency_ms_p50/p95/p99, ttft_ms_p50/p95/p99; text/csv with format=csv",
	},
	{
		method: "GET",
		path: "/audit",
		summary: "The admin audit trail, newest first",
		query: AuditQuery,
		response:
			"{object: list, data: [{id, at, actor, actor_fingerprint, action, target: {type, id}, before, after, client_address, request_id}], next_cursor}",
	},
	{
		method: "POST",
		path: "/keys",
		summary: "Create a client key",
		body: CreateKeyBody,
		status: 201,
		response: "the key view plus the full `key`, shown this once",
	},
	{ method: "GET", path: "/keys", summary: "List keys", query: KeyListQuery, response: "{object: list, data: keys}" },
	{ method: "GET", path: "/keys/:id", summary: "One key", response: "the key view (never the full key)" },
	{ method: "PATCH", path: "/keys/:id", summary: "Change a key", body: PatchKeyBody, response: "the key view" },
	{ method: "DELETE", path: "/keys/:id", summary: "Revoke a key", response: "the key view with revoked_at" },
	{
		method: "POST",
		path: "/tenants",
		summary: "Create a tenant",
		body: CreateTenantBody,
		status: 201,
		response: "the tenant",
	},
	{ method: "GET", path: "/tenants", summary: "List tenants", response: "{object: list, data: tenants}" },
	{ method: "GET", path: "/tenants/:id", summary: "One tenant", response: "the tenant" },
	{ method: "PATCH", path: "/tenants/:id", summary: "Change a tenant", body: PatchTenantBody, response: "the tenant" },
	{ method: "DELETE", path: "/tenants/:id", summary: "Delete a tenant without keys", response: "{id, deleted: true}" },
	{
		method: "GET",
		path: "/providers",
		summary: "List providers with their accounts' live health",
		response: "{object: list, data: providers}; accounts masked, each with live state",
	},
	{
		method: "POST",
		path: "/providers",
		summary: "Create a runtime provider",
		body: CreateProviderBody,
		status: 201,
		response: "the provider",
	},
	{ method: "GET", path: "/providers/:name", summary: "One provider", response: "the provider" },
	{
		method: "PATCH",
		path: "/providers/:name",
		summary: "Change a runtime provider",
		body: PatchProviderBody,
		response: "the provider",
	},
	{
		method: "DELETE",
		path: "/providers/:name",
		summary: "Delete a runtime provider",
		response: "{name, deleted: true}",
	},
	{
		method: "GET",
		path: "/providers/:name/accounts",
		summary: "A provider's accounts",
		response: "{object: list, data: accounts}",
	},
	{
		method: "POST",
		path: "/providers/:name/accounts",
		summary: "Add an upstream account",
		body: CreateAccountBody,
		status: 201,
		response: "the account (key masked)",
	},
	{
		method: "PATCH",
		path: "/providers/:name/accounts/:account",
		summary: "Change an account (rotate its key, enable, weight, …)",
		body: PatchAccountBody,
		response: "the account (key masked)",
	},
	{
		method: "DELETE",
		path: "/providers/:name/accounts/:account",
		summary: "Delete an account",
		response: "{name, deleted: true}",
	},
	{
		method: "POST",
		path: "/providers/:name/accounts/:account/enable",
		summary: "Re-enable an account an upstream 401/403 disabled, and clear its cooldowns",
		response: "{provider, name, was_disabled, status, models}",
	},
	{
		method: "GET",
		path: "/prices",
		summary: "Model prices",
		query: PriceListQuery,
		response: "{object: list, data: prices}, each with its source (database, config, or catalog)",
	},
	{
		method: "PUT",
		path: "/prices/:model",
		summary: "Set a model's price (USD per million tokens)",
		body: ModelPriceSchema,
		response: "the price",
	},
	{ method: "DELETE", path: "/prices/:model", summary: "Remove a database price", response: "{model, deleted: true}" },
	{
		method: "GET",
		path: "/logs/:request_id",
		summary: "One request's row with its stored bodies",
		response:
			"the request_logs row with request_body, response_body (null when not logged), request_truncated, response_truncated, response_stream",
	},
	{ method: "GET", path: "/model-groups", summary: "Model groups", response: "{object: list, data: groups}" },
	{
		method: "POST",
		path: "/model-groups",
		summary: "Create a model group (ordered or weighted targets)",
		body: ModelGroupBody,
		response: "the group",
		status: 201,
	},
	{ method: "GET", path: "/model-groups/:name", summary: "One model group", response: "the group" },
	{
		method: "PATCH",
		path: "/model-groups/:name",
		summary: "Change a model group",
		body: ModelGroupPatch,
		response: "the group",
	},
	{ method: "DELETE", path: "/model-groups/:name", summary: "Delete a model group", response: "{name, deleted: true}" },
	{
		method: "GET",
		path: "/alerts",
		summary: "Alert webhooks",
		response: "{object: list, data: webhooks (secrets masked)}",
	},
	{ method: "GET", path: "/alerts/:id", summary: "One alert webhook", response: "the webhook (secret masked)" },
	{
		method: "POST",
		path: "/alerts",
		summary: "Add an alert webhook",
		body: CreateAlertBody,
		response: "the webhook (secret masked)",
		status: 201,
	},
	{
		method: "PATCH",
		path: "/alerts/:id",
		summary: "Change an alert webhook",
		body: PatchAlertBody,
		response: "the webhook (secret masked)",
	},
	{ method: "DELETE", path: "/alerts/:id", summary: "Delete an alert webhook", response: "{id, deleted: true}" },
	{
		method: "POST",
		path: "/auth/challenge",
		summary: "Start an Ed25519 login (no credential): a single-use challenge and the exact message to sign",
		body: ChallengeBody,
		response: "{challenge_id, nonce, fingerprint, expires_at, message}",
	},
	{
		method: "POST",
		path: "/auth/session",
		summary: "Finish an Ed25519 login (no credential): the challenge's signature for a session token",
		body: SessionBody,
		response: "{token, session_id, fingerprint, expires_at}",
		status: 201,
	},
	{
		method: "POST",
		path: "/auth/console-session",
		summary: "Redeem a one-time console link (no credential) for a session token",
		body: ConsoleSessionBody,
		response: "{token, session_id, fingerprint, expires_at}",
		status: 201,
	},
	{ method: "POST", path: "/auth/logout", summary: "End the calling session", response: "{revoked, session_id}" },
	{
		method: "POST",
		path: "/auth/console-link",
		summary: "A one-time console login link for the caller",
		response: "{url, expires_at}",
	},
	{ method: "GET", path: "/sessions", summary: "Admin sessions", response: "{object: list, data: sessions}" },
	{ method: "DELETE", path: "/sessions/:id", summary: "Revoke an admin session", response: "the session, revoked" },
	{ method: "GET", path: "/admin-keys", summary: "Enrolled admin public keys", response: "{object: list, data: keys}" },
	{
		method: "POST",
		path: "/admin-keys",
		summary: "Enrol an admin Ed25519 public key",
		body: AdminKeyBody,
		response: "the key with its fingerprint",
		status: 201,
	},
	{
		method: "DELETE",
		path: "/admin-keys/:id",
		summary: "Revoke an admin key (and its sessions)",
		response: "the key, revoked",
	},
];
