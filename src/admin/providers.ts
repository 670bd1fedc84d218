import { Elysia } from "elysia";
import { CreateAccountBody, CreateProviderBody, PatchAccountBody, PatchProviderBody } from "./provider-schemas.ts";
import type { ProviderService } from "./provider-service.ts";

/** /admin/providers and /admin/providers/:name/accounts: thin controller over ProviderService. */
export function providerRoutes(service: ProviderService) {
	return new Elysia()
		.get("/providers", async () => ({
			object: "list",
			data: await service.list(),
		}))
		.post(
			"/providers",
			async ({ body, set }) => {
				set.status = 201;
				return service.create(body);
			},
			{ body: CreateProviderBody },
		)
		.get("/providers/:name", ({ params }) => service.get(params.name))
		.patch("/providers/:name", ({ params, body }) => service.update(params.name, body), { body: PatchProviderBody })
		.delete("/providers/:name", ({ params }) => service.remove(params.name))
		.get("/providers/:name/accounts", async ({ params }) => ({
			object: "list",
			data: await service.listAccounts(params.name),
		}))
		.post(
			"/providers/:name/accounts",
			async ({ params, body, set }) => {
				set.status = 201;
				return service.addAccount(params.name, body);
			},
			{ body: CreateAccountBody },
		)
		.patch(
			"/providers/:name/accounts/:account",
			({ params, body }) => service.updateAccount(params.name, params.account, body),
			{
				body: PatchAccountBody,
			},
		)
		.delete("/providers/:name/accounts/:account", ({ params }) => service.removeAccount(params.name, params.account));
}
