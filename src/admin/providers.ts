import { Elysia } from "elysia";
import { adminBody } from "./admin-body.ts";
import { CreateAccountBody, CreateProviderBody, PatchAccountBody, PatchProviderBody } from "./provider-schemas.ts";
import type { ProviderService } from "./provider-service.ts";

/** /admin/providers and /admin/providers/:name/accounts: thin controller over ProviderService. */
export function providerRoutes(service: ProviderService) {
	const createProvider = adminBody(CreateProviderBody);
	const patchProvider = adminBody(PatchProviderBody);
	const createAccount = adminBody(CreateAccountBody);
	const patchAccount = adminBody(PatchAccountBody);
	return new Elysia()
		.get("/providers", async () => ({
			object: "list",
			data: await service.list(),
		}))
		.post("/providers", async ({ request, set }) => {
			const body = await createProvider(request);
			set.status = 201;
			return service.create(body);
		})
		.get("/providers/:name", ({ params }) => service.get(params.name))
		.patch("/providers/:name", async ({ params, request }) => service.update(params.name, await patchProvider(request)))
		.delete("/providers/:name", ({ params }) => service.remove(params.name))
		.get("/providers/:name/accounts", async ({ params }) => ({
			object: "list",
			data: await service.listAccounts(params.name),
		}))
		.post("/providers/:name/accounts", async ({ params, request, set }) => {
			const body = await createAccount(request);
			set.status = 201;
			return service.addAccount(params.name, body);
		})
		.patch("/providers/:name/accounts/:account", async ({ params, request }) =>
			service.updateAccount(params.name, params.account, await patchAccount(request)),
		)
		.delete("/providers/:name/accounts/:account", ({ params }) => service.removeAccount(params.name, params.account));
}
