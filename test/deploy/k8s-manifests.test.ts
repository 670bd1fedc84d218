import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Secret } from "kubernetes-models/v1/Secret";
import { Service } from "kubernetes-models/v1/Service";
import pkg from "../../package.json" with { type: "json" };
import { buildConfig } from "../../src/config/load-config.ts";

const ROOT = join(import.meta.dir, "..", "..");
const DIR = join(ROOT, "deploy", "k8s");

type Manifest = { apiVersion: string; kind: string; metadata: { name: string }; [k: string]: unknown };
type Model = new (data: Manifest) => { validate(): void };

/**
 * The Kubernetes API schemas, compiled into validators by kubernetes-models (generated from
 * the API's OpenAPI definitions): types, enums, required fields and formats.
 */
const MODELS: Record<string, Model> = {
	"apps/v1/Deployment": Deployment as unknown as Model,
	"autoscaling/v2/HorizontalPodAutoscaler": HorizontalPodAutoscaler as unknown as Model,
	"policy/v1/PodDisruptionBudget": PodDisruptionBudget as unknown as Model,
	"v1/ConfigMap": ConfigMap as unknown as Model,
	"v1/Secret": Secret as unknown as Model,
	"v1/Service": Service as unknown as Model,
};

function validate(m: Manifest): string[] {
	const model = MODELS[`${m.apiVersion}/${m.kind}`];
	if (!model) return [`no schema for ${m.apiVersion} ${m.kind}`];
	try {
		new model(m).validate();
		return [];
	} catch (e) {
		return [(e as Error).message];
	}
}

const files = readdirSync(DIR).filter((f) => f.endsWith(".yaml") || f.endsWith(".yml"));
const manifests: Manifest[] = files.flatMap((f) => {
	const parsed = Bun.YAML.parse(readFileSync(join(DIR, f), "utf8"));
	return (Array.isArray(parsed) ? parsed : [parsed]) as Manifest[];
});
const byKind = (kind: string): Manifest[] => manifests.filter((m) => m.kind === kind);
const one = <T>(kind: string): T => {
	const found = byKind(kind);
	expect(found).toHaveLength(1);
	return found[0] as T;
};

interface Probe {
	httpGet: { path: string; port: string | number };
}
interface Container {
	name: string;
	image: string;
	ports: { name: string; containerPort: number }[];
	env: { name: string; value: string }[];
	envFrom: { secretRef: { name: string } }[];
	resources: { requests: Record<string, string>; limits: Record<string, string> };
	readinessProbe: Probe;
	livenessProbe: Probe;
	lifecycle: { preStop: { sleep: { seconds: number } } };
	securityContext: { allowPrivilegeEscalation: boolean; readOnlyRootFilesystem: boolean };
	volumeMounts: { name: string; mountPath: string }[];
}
interface DeploymentShape {
	metadata: { name: string };
	spec: {
		replicas: number;
		selector: { matchLabels: Record<string, string> };
		template: {
			metadata: { labels: Record<string, string> };
			spec: {
				terminationGracePeriodSeconds: number;
				securityContext: { runAsNonRoot: boolean; runAsUser: number };
				containers: Container[];
				volumes: { name: string; configMap?: { name: string } }[];
			};
		};
	};
}

const deployment = one<DeploymentShape>("Deployment");
const pod = deployment.spec.template.spec;
const container = pod.containers[0] as Container;
const configMap = one<{ metadata: { name: string }; data: Record<string, string> }>("ConfigMap");
const secret = one<{ metadata: { name: string }; stringData: Record<string, string> }>("Secret");
const gatewayToml = configMap.data["gateway.toml"] ?? "";

describe("deploy/k8s manifests", () => {
	test("every manifest passes the Kubernetes schema of its kind", () => {
		expect(files.length).toBeGreaterThan(0);
		expect(manifests.map((m) => `${m.kind} ${m.metadata?.name}: ${validate(m).join("; ") || "valid"}`)).toEqual(
			manifests.map((m) => `${m.kind} ${m.metadata?.name}: valid`),
		);
	});

	test("the schemas are applied: a wrong type or a missing required field is rejected", () => {
		const wrongType = structuredClone(deployment) as unknown as Manifest & DeploymentShape;
		(wrongType.spec as unknown as Record<string, unknown>).replicas = "two";
		expect(validate(wrongType).join("\n")).toContain("spec/replicas must be integer");
		const noPort = structuredClone(deployment) as unknown as Manifest & DeploymentShape;
		const probe = noPort.spec.template.spec.containers[0]?.readinessProbe.httpGet as Partial<Probe["httpGet"]>;
		delete probe.port;
		expect(validate(noPort).join("\n")).toContain("readinessProbe/httpGet must have required property port");
	});

	test("ships a Deployment, Service, ConfigMap, Secret, HorizontalPodAutoscaler and PodDisruptionBudget", () => {
		expect(manifests.map((m) => m.kind).sort()).toEqual(
			["ConfigMap", "Deployment", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Secret", "Service"].sort(),
		);
	});

	test("readiness on /readyz and liveness on /healthz, on the container's port", () => {
		expect(container.readinessProbe.httpGet.path).toBe("/readyz");
		expect(container.livenessProbe.httpGet.path).toBe("/healthz");
		const portNames = container.ports.map((p) => p.name);
		expect(portNames).toContain(String(container.readinessProbe.httpGet.port));
		expect(portNames).toContain(String(container.livenessProbe.httpGet.port));
		const cfg = Bun.TOML.parse(gatewayToml) as { server: { port: number } };
		expect(container.ports.map((p) => p.containerPort)).toEqual([cfg.server.port]);
	});

	test("the grace period covers the preStop pause, drain_timeout_ms and the usage flush", () => {
		const cfg = Bun.TOML.parse(gatewayToml) as { server: { drain_timeout_ms: number } };
		const drainSeconds = cfg.server.drain_timeout_ms / 1000;
		const preStop = container.lifecycle.preStop.sleep.seconds;
		expect(preStop).toBeGreaterThan(0);
		// the supervisor gives workers drain_timeout_ms + 5 s, then flushes usage for up to 15 s
		expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(preStop + drainSeconds + 5 + 15);
	});

	test("runs as non-root, without privilege escalation, with resources set", () => {
		expect(pod.securityContext.runAsNonRoot).toBe(true);
		expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
		expect(container.securityContext.allowPrivilegeEscalation).toBe(false);
		expect(container.securityContext.readOnlyRootFilesystem).toBe(true);
		expect(Object.keys(container.resources.requests).sort()).toEqual(["cpu", "memory"]);
		expect(Object.keys(container.resources.limits).sort()).toEqual(["cpu", "memory"]);
		expect(container.image).toBe(`interchange:${pkg.version}`);
	});

	test("names resolve: selectors, Secret, ConfigMap, mounts and the HPA target", () => {
		const labels = deployment.spec.template.metadata.labels;
		expect(labels).toMatchObject(deployment.spec.selector.matchLabels);
		const service = one<{ spec: { selector: Record<string, string>; ports: { targetPort: string }[] } }>("Service");
		expect(labels).toMatchObject(service.spec.selector);
		expect(container.ports.map((p) => p.name)).toContain(service.spec.ports[0]?.targetPort);
		const pdb = one<{ spec: { selector: { matchLabels: Record<string, string> }; minAvailable: number } }>(
			"PodDisruptionBudget",
		);
		expect(labels).toMatchObject(pdb.spec.selector.matchLabels);
		expect(pdb.spec.minAvailable).toBeLessThan(deployment.spec.replicas);
		const hpa = one<{ spec: { scaleTargetRef: { kind: string; name: string }; minReplicas: number } }>(
			"HorizontalPodAutoscaler",
		);
		expect(hpa.spec.scaleTargetRef).toMatchObject({ kind: "Deployment", name: deployment.metadata.name });
		expect(hpa.spec.minReplicas).toBeGreaterThan(pdb.spec.minAvailable);
		expect(container.envFrom.map((e) => e.secretRef.name)).toEqual([secret.metadata.name]);
		const configVolume = pod.volumes.find((v) => v.configMap);
		expect(configVolume?.configMap?.name).toBe(configMap.metadata.name);
		const mount = container.volumeMounts.find((m) => m.name === configVolume?.name);
		const configPath = container.env.find((e) => e.name === "GATEWAY_CONFIG")?.value;
		expect(configPath).toBe(`${mount?.mountPath}/gateway.toml`);
		for (const m of container.volumeMounts) expect(pod.volumes.map((v) => v.name)).toContain(m.name);
	});

	test("the Secret holds the admin token, encryption key, DATABASE_URL and REDIS_URL", () => {
		expect(Object.keys(secret.stringData)).toEqual(
			expect.arrayContaining(["GATEWAY_ADMIN_TOKEN", "GATEWAY_ENCRYPTION_KEY", "DATABASE_URL", "REDIS_URL"]),
		);
	});

	test("the ConfigMap is deploy/gateway.toml, and the gateway accepts it in production with the Secret's values", () => {
		expect(gatewayToml).toBe(readFileSync(join(ROOT, "deploy", "gateway.toml"), "utf8"));
		const env = Object.fromEntries(container.env.map((e) => [e.name, e.value]));
		const config = buildConfig(Bun.TOML.parse(gatewayToml), { ...secret.stringData, ...env });
		expect(config.env).toBe("production");
		expect(config.database.url).toBe(secret.stringData.DATABASE_URL);
		expect(config.server.drain_timeout_ms).toBeGreaterThan(0);
	});
});
