import { parseArgs } from "node:util";
import { LIMIT_FIELDS, type LimitField } from "../config/limit-fields.ts";
import { AdminClient } from "./admin-client.ts";
import { CliError, EXIT, usageError } from "./cli-error.ts";
import { defaultKeyPath, sessionPath } from "./paths.ts";
import { readSession } from "./session-file.ts";

type Env = Record<string, string | undefined>;

type Kebab<S extends string> = S extends `${infer A}_${infer B}` ? `${A}-${Kebab<B>}` : S;
/** A limit's flag: `quota_daily_tokens` → `--quota-daily-tokens`. */
export const limitFlag = <F extends LimitField>(field: F): Kebab<F> => field.replaceAll("_", "-") as Kebab<F>;

/** One string flag per limit of the settings table. */
function limitOptions() {
	return Object.fromEntries(LIMIT_FIELDS.map((f) => [limitFlag(f), { type: "string" }])) as {
		[F in LimitField as Kebab<F>]: { type: "string" };
	};
}

/** Every flag of every command, in one table: an unknown flag is a usage error (exit 2). */
const OPTIONS = {
	url: { type: "string" },
	token: { type: "string" },
	key: { type: "string" },
	json: { type: "boolean" },
	help: { type: "boolean", short: "h" },
	force: { type: "boolean" },
	all: { type: "boolean" },
	name: { type: "string" },
	tenant: { type: "string" },
	...limitOptions(),
	models: { type: "string" },
	"expires-at": { type: "string" },
	type: { type: "string" },
	"base-url": { type: "string" },
	strategy: { type: "string" },
	"api-key": { type: "string" },
	weight: { type: "string" },
	input: { type: "string" },
	output: { type: "string" },
	"cached-input": { type: "string" },
	"cache-write": { type: "string" },
	by: { type: "string" },
	since: { type: "string" },
	until: { type: "string" },
	model: { type: "string" },
	provider: { type: "string" },
	account: { type: "string" },
	status: { type: "string" },
	action: { type: "string" },
	csv: { type: "boolean" },
	limit: { type: "string" },
	cursor: { type: "string" },
	follow: { type: "boolean", short: "f" },
	interval: { type: "string" },
	once: { type: "boolean" },
} as const;

export type Flags = ReturnType<typeof parse>["values"];

const parse = (argv: string[]) => parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });

/** What a command gets: its positional arguments, the flags, output, and the admin client. */
export class Ctx {
	readonly command: string | undefined;
	readonly args: string[];
	readonly flags: Flags;

	constructor(
		argv: string[],
		readonly env: Env,
		readonly out: (text: string) => void,
	) {
		let parsed: ReturnType<typeof parse>;
		try {
			parsed = parse(argv);
		} catch (e) {
			throw usageError((e as Error).message);
		}
		[this.command, ...this.args] = parsed.positionals;
		this.flags = parsed.values;
	}

	get json(): boolean {
		return this.flags.json === true;
	}

	get keyPath(): string {
		return this.flags.key ?? defaultKeyPath(this.env);
	}

	get sessionFile(): string {
		return sessionPath(this.env);
	}

	/** `--json` prints the API's answer; otherwise the human rendering. */
	print(value: unknown, human: () => string): void {
		this.out(this.json ? JSON.stringify(value, null, 2) : human());
	}

	/** The gateway and credential: --url/--token, IX_URL/IX_ADMIN_TOKEN, then the saved session. */
	client(): AdminClient {
		const saved = readSession(this.sessionFile);
		const url = (this.flags.url ?? this.env.IX_URL ?? saved?.url)?.replace(/\/+$/, "");
		if (!url) {
			throw new CliError(
				EXIT.notLoggedIn,
				"not logged in: run `ix login <url>` (or pass --url and --token, or set IX_URL and IX_ADMIN_TOKEN)",
			);
		}
		const token = this.flags.token ?? this.env.IX_ADMIN_TOKEN ?? (saved && saved.url === url ? saved.token : null);
		if (!token) {
			throw new CliError(EXIT.notLoggedIn, `not logged in to ${url}: run \`ix login ${url}\` (or pass --token)`);
		}
		return new AdminClient(url, token);
	}

	/** The n-th positional argument, or a usage error naming it. */
	arg(n: number, what: string): string {
		const v = this.args[n];
		if (!v) throw usageError(`missing ${what}`);
		return v;
	}
}
