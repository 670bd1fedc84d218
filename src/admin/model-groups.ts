import { Elysia } from "elysia";
import type { Sql } from "postgres";
import {
	ModelGroupBody,
	type ModelGroupConfig,
	type ModelGroupInput,
	ModelGroupPatch,
	type ModelGroupPatchInput,
	modelGroupProblem,
} from "../config/model-group.ts";
import type { ChangeBus } from "../control/change-bus.ts";
import { GatewayError } from "../errors/gateway-error.ts";
import { groupOfRow, type ModelGroupDbRow, type ProviderCatalog } from "../providers/provider-catalog.ts";
import { resolveModel } from "../routing/resolve-model.ts";
import type { AdminAuditLog } from "./admin-audit.ts";
import { adminBody } from "./admin-body.ts";

export type ModelGroupView = ModelGroupConfig & {
	object: "model_group";
	/** Config-file groups are read-only here; a database group of the same name is shadowed. */
	source: "config" | "database";
};

const invalid = (message: string, param: string) => new GatewayError("PLATFORM_INVALID_REQUEST", message, { param });
const notFound = (name: string) =>
	new GatewayError("PLATFORM_NOT_FOUND", `No model group named '${name}'`, { param: "name" });

/** Model groups created at runtime (model_groups rows) beside the config file's. */
export class ModelGroupService {
	constructor(
		private readonly sql: Sql,
		private readonly catalog: ProviderCatalog,
		private readonly bus: ChangeBus | null,
	) {}

	async list(): Promise<ModelGroupView[]> {
		const out: ModelGroupView[] = [];
		for (const g of this.catalog.current().groups.values()) {
			if (this.catalog.configGroups.has(g.name)) out.push(view(g, "config"));
		}
		const rows = await this.sql<ModelGroupDbRow[]>`select * from model_groups order by created_at, name`;
		for (const r of rows) if (!this.catalog.configGroups.has(r.name)) out.push(view(groupOfRow(r), "database"));
		return out;
	}

	async get(name: string): Promise<ModelGroupView> {
		const fromConfig = this.catalog.configGroups.has(name) && this.catalog.current().groups.get(name);
		if (fromConfig) return view(fromConfig, "config");
		return view(groupOfRow(await this.row(name)), "database");
	}

	async create(input: ModelGroupInput): Promise<ModelGroupView> {
		if (this.catalog.configGroups.has(input.name)) {
			throw new GatewayError("PLATFORM_CONFLICT", `Model group '${input.name}' is defined in the config file`, {
				param: "name",
			});
		}
		const group = this.checked({
			name: input.name,
			targets: input.targets,
			strategy: input.strategy ?? "ordered",
			weights: input.weights ?? null,
		});
		const sql = this.sql;
		const r = await sql`
			insert into model_groups (name, targets, strategy, weights)
			values (${group.name}, ${sql.array(group.targets)}::text[], ${group.strategy},
				${group.weights ? sql.array(group.weights) : null}::int[])
			on conflict (name) do nothing returning name`;
		if (r.length === 0) {
			throw new GatewayError("PLATFORM_CONFLICT", `Model group '${group.name}' already exists`, { param: "name" });
		}
		await this.changed();
		return view(group, "database");
	}

	async update(name: string, patch: ModelGroupPatchInput): Promise<ModelGroupView> {
		this.refuseConfig(name);
		const current = groupOfRow(await this.row(name));
		const strategy = patch.strategy ?? current.strategy;
		const group = this.checked({
			name,
			targets: patch.targets ?? current.targets,
			strategy,
			// leaving `weighted` drops the weights; staying keeps them unless new ones are given
			weights: patch.weights !== undefined ? patch.weights : strategy === "weighted" ? current.weights : null,
		});
		const sql = this.sql;
		await sql`
			update model_groups set targets = ${sql.array(group.targets)}::text[], strategy = ${group.strategy},
				weights = ${group.weights ? sql.array(group.weights) : null}::int[], updated_at = now()
			where name = ${name}`;
		await this.changed();
		return view(group, "database");
	}

	async remove(name: string): Promise<{ name: string; object: "model_group"; deleted: true }> {
		this.refuseConfig(name);
		const r = await this.sql`delete from model_groups where name = ${name} returning name`;
		if (r.length === 0) throw notFound(name);
		await this.changed();
		return { name, object: "model_group", deleted: true };
	}

	/**
	 * What the schema cannot check: weights against targets, and every target served now (a
	 * typo would otherwise only show as a group with one target fewer). A target may not be a
	 * group: groups do not nest.
	 */
	private checked(group: ModelGroupConfig): ModelGroupConfig {
		const problem = modelGroupProblem(group);
		if (problem) throw invalid(problem.message, problem.field);
		const set = this.catalog.current();
		group.targets.forEach((target, i) => {
			if (set.groups.has(target))
				throw invalid(`Target '${target}' is a model group; groups do not nest`, `targets[${i}]`);
			try {
				resolveModel(target, set, []);
			} catch {
				throw invalid(`Target '${target}' is not served by any provider`, `targets[${i}]`);
			}
		});
		return group;
	}

	/** Reload here first (the answer reflects the change), then on every other worker. */
	private async changed(): Promise<void> {
		if (this.bus) await this.bus.publish({ kind: "model-groups" });
		else await this.catalog.reload();
	}

	private refuseConfig(name: string): void {
		if (this.catalog.configGroups.has(name)) {
			throw new GatewayError(
				"PLATFORM_CONFLICT",
				`Model group '${name}' is defined in the config file; edit the file instead`,
				{ param: "name" },
			);
		}
	}

	private async row(name: string): Promise<ModelGroupDbRow> {
		const rows = await this.sql<ModelGroupDbRow[]>`select * from model_groups where name = ${name}`;
		if (!rows[0]) throw notFound(name);
		return rows[0];
	}
}

function view(g: ModelGroupConfig, source: ModelGroupView["source"]): ModelGroupView {
	return {
		name: g.name,
		object: "model_group",
		source,
		targets: [...g.targets],
		strategy: g.strategy,
		weights: g.weights,
	};
}

/** /admin/model-groups: thin controller over ModelGroupService. */
export function modelGroupRoutes(service: ModelGroupService, audit: AdminAuditLog) {
	const createBody = adminBody(ModelGroupBody);
	const patchBody = adminBody(ModelGroupPatch);
	const before = (name: string) => () => service.get(name).catch(() => null);
	return new Elysia()
		.get("/model-groups", async () => ({ object: "list", data: await service.list() }))
		.post("/model-groups", async ({ request, set }) => {
			const body = await createBody(request);
			const created = await audit.audited(
				request,
				{ action: "model_group.create", type: "model_group", id: body.name },
				() => service.create(body),
			);
			set.status = 201;
			return created;
		})
		.get("/model-groups/:name", ({ params }) => service.get(params.name))
		.patch("/model-groups/:name", async ({ params, request }) => {
			const body = await patchBody(request);
			return audit.audited(
				request,
				{ action: "model_group.update", type: "model_group", id: params.name, before: before(params.name) },
				() => service.update(params.name, body),
			);
		})
		.delete("/model-groups/:name", ({ params, request }) =>
			audit.audited(
				request,
				{ action: "model_group.delete", type: "model_group", id: params.name, before: before(params.name) },
				() => service.remove(params.name),
			),
		);
}
