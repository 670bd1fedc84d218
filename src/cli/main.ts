#!/usr/bin/env bun
/**
 * `ix` (`interchange`): the operator's command line, a client of /admin/* only. Human tables by
 * default, `--json` for scripts; exit codes: 0 ok, 1 the server refused (or is unreachable),
 * 2 a usage error, 3 not logged in or the session ended.
 */
import { CliError, EXIT, usageError } from "./cli-error.ts";
import { adminKeys, consoleLink, keygen, login, logout, sessions } from "./commands/auth.ts";
import { audit, logs, top, usage } from "./commands/observe.ts";
import { accounts, keys, prices, providers, tenants } from "./commands/resources.ts";
import { Ctx } from "./context.ts";

const HELP = `ix: the Interchange gateway's command line

  ix keygen [--key PATH] [--force]        new Ed25519 key (~/.config/interchange/id_ed25519)
  ix login <url> [--key PATH]             challenge-response login; keeps the session (0600)
  ix logout                               ends the session
  ix sessions [list|revoke ID] [--all]    admin sessions
  ix admin-keys [list|add [PUB]|revoke ID] enrolled operator keys (add: this CLI's key by default)
  ix console                              a one-time login link for the web console
  ix keys list|get|create|update|revoke   client keys; limits: --rpm --tpm --max-concurrency
        --quota-daily-requests --quota-daily-tokens --budget-usd --budget-period --models a,b
        --expires-at ISO --tenant ID --name N ('none' clears a limit)
  ix tenants list|get|create|update|delete
  ix providers list|get|create|update|delete   (--type --base-url --models --strategy)
  ix accounts list [PROVIDER] | add|update|enable|disable|delete PROVIDER ACCOUNT
        (--api-key --base-url --weight --max-concurrency --models)
  ix prices list | set MODEL --input --output [--cached-input --cache-write] | delete MODEL
  ix usage --by key,day --since 7d [--until T] [--key ID] [--tenant ID] [--model M] [--csv]
  ix logs [--follow] [--key ID] [--model M] [--status N] [--since T] [--limit N] [--cursor C]
  ix audit [--limit N] [--cursor C] [--action A]
  ix top [--once]                         live requests/s, errors, p99 and account health

  --url URL / IX_URL and --token T / IX_ADMIN_TOKEN override the saved session; --json for scripts.
  Times: 7d, 24h, 30m, 90s or ISO 8601.`;

type Command = (ctx: Ctx) => void | Promise<void>;

const COMMANDS: Record<string, Command> = {
	keygen,
	login,
	logout,
	sessions,
	"admin-keys": adminKeys,
	console: consoleLink,
	keys,
	tenants,
	providers,
	accounts,
	prices,
	usage,
	logs,
	audit,
	top,
};

export async function run(argv: string[], env: Record<string, string | undefined>): Promise<number> {
	try {
		const ctx = new Ctx(argv, env, (text) => console.log(text));
		if (!ctx.command || ctx.command === "help" || ctx.flags.help) {
			console.log(HELP);
			return EXIT.ok;
		}
		const command = COMMANDS[ctx.command];
		if (!command) throw usageError(`unknown command '${ctx.command}'`);
		await command(ctx);
		return EXIT.ok;
	} catch (e) {
		if (!(e instanceof CliError)) throw e;
		console.error(`ix: ${e.message}`);
		return e.exitCode;
	}
}

if (import.meta.main) process.exit(await run(process.argv.slice(2), process.env));
