import { Elysia } from "elysia";
import type { AdminAuditLog } from "./admin-audit.ts";
import { adminBody } from "./admin-body.ts";
import { CreateAccountBody, CreateProviderBody, PatchAccountBody, PatchProviderBody } from "./provider-schemas.ts";
import type { ProviderService } from "./provider-service.ts";

/** /admin/providers and /admin/providers/:name/accounts: thin controller over ProviderService. */
export function providerRoutes(service: ProviderService, audit: AdminAuditLog) {
	const createProvider = adminBody(CreateProviderBody);
	const patchProvider = adminBody(PatchProviderBody);
	const createAccount = adminBody(CreateAccountBody);
	const patchAccount = adminBody(PatchAccountBody);
	const provider = (name: string) => () => service.get(name);
	const account = (name: string, acct: string) => async () =>
		(await service.listAccounts(name)).find((a) => a.name === acct) ?? null;
	const accountId = (name: string, acct: string) => `${name}/${acct}`;
	return new Elysia()
		.get("/providers", async () => ({
			object: "list",
			data: await service.list(),
		}))
		.post("/providers", async ({ request, set }) => {
			const body = await createProvider(request);
			set.status = 201;
			return audit.audited(request, { action: "provider.create", type: "provider", id: body.name }, () =>
				service.create(body),
			);
		})
		.get("/providers/:name", ({ params }) => service.get(params.name))
		.patch("/providers/:name", async ({ params, request }) => {
			const body = await patchProvider(request);
			return audit.audited(
				request,
				{ action: "provider.update", type: "provider", id: params.name, before: provider(params.name) },
				() => service.update(params.name, body),
			);
		})
		.delete("/providers/:name", ({ params, request }) =>
			audit.audited(
				request,
				{ action: "provider.delete", type: "provider", id: params.name, before: provider(params.name) },
				() => service.remove(params.name),
			),
		)
		.get("/providers/:name/accounts", async ({ params }) => ({
			object: "list",
			data: await service.listAccounts(params.name),
		}))
		.post("/providers/:name/accounts", async ({ params, request, set }) => {
			const body = await createAccount(request);
			set.status = 201;
			return audit.audited(
				request,
				{ action: "account.create", type: "account", id: accountId(params.name, body.name) },
				() => service.addAccount(params.name, body),
			);
		})
		.patch("/providers/:name/accounts/:account", async ({ params, request }) => {
			const body = await patchAccount(request);
			return audit.audited(
				request,
				{
					action: "account.update",
					type: "account",
					id: accountId(params.name, params.account),
					before: account(params.name, params.account),
				},
				() => service.updateAccount(params.name, params.account, body),
			);
		})
		.delete("/providers/:name/accounts/:account", ({ params, request }) =>
			audit.audited(
				request,
				{
					action: "account.delete",
					type: "account",
					id: accountId(params.name, params.account),
					before: account(params.name, params.account),
				},
				() => service.removeAccount(params.name, params.account),
			),
		);
}
