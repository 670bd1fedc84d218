/**
 * `bun run bench:accounts`: routing cost, 1 account vs 3 accounts, as two gateways side by
 * side measured in alternating rounds (ROUNDS, default 10, of SECONDS, default 3) so that
 * drift on the shared cores hits both alike. Prints every round and the ratios.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startMockUpstream } from "../test/support/mock-upstream.ts";
import { runBench, type ServerProcess, startGateway } from "./gateway-process.ts";
import { runLoad } from "./load.ts";
import { plainChat } from "./scenarios.ts";

const ROUNDS = Number(process.env.ROUNDS ?? 10);
const SECONDS = Number(process.env.SECONDS ?? 3);

function config(mockUrl: string, accounts: number): string {
	const path = join(mkdtempSync(join(tmpdir(), "interchange-accounts-")), "gateway.toml");
	const tables = Array.from(
		{ length: accounts },
		(_, i) => `[[providers.accounts]]\nname = "a${i}"\napi_key = "bench-${i}"\n`,
	);
	writeFileSync(
		path,
		`[auth]\nstatic_keys = ["bench-key"]\n[[providers]]\nname = "openai"\ntype = "openai"\nbase_url = "${mockUrl}/v1"\nmodels = ["gpt-4o-mini"]\n${tables.join("")}`,
	);
	return path;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

async function main(): Promise<void> {
	const mock = await startMockUpstream({ fast: true });
	const gws: Record<1 | 3, ServerProcess> = {
		1: await startGateway({ GATEWAY_CONFIG: config(mock.url, 1) }),
		3: await startGateway({ GATEWAY_CONFIG: config(mock.url, 3) }),
	};
	const rps: Record<1 | 3, number[]> = { 1: [], 3: [] };
	try {
		for (let round = 0; round < ROUNDS; round++) {
			for (const n of round % 2 ? ([3, 1] as const) : ([1, 3] as const)) {
				const r = await runLoad({
					url: gws[n].url,
					path: plainChat.path,
					body: plainChat.body,
					headers: { authorization: "Bearer bench-key" },
					concurrency: 64,
					seconds: SECONDS,
					warmupSeconds: 1,
				});
				rps[n].push(Math.round(r.rps));
			}
			console.log(`round ${round + 1}: 1 account ${rps[1].at(-1)} req/s, 3 accounts ${rps[3].at(-1)} req/s`);
		}
	} finally {
		await gws[1].stop();
		await gws[3].stop();
		await mock.stop();
	}
	const paired = rps[1].map((v, i) => rps[3][i] / v);
	console.log(
		`3 accounts / 1 account: mean ×${(mean(rps[3]) / mean(rps[1])).toFixed(3)}, median ×${(median(rps[3]) / median(rps[1])).toFixed(3)}, median of paired rounds ×${median(paired).toFixed(3)}`,
	);
}

await runBench(main);
