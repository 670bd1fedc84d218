import { join } from "node:path";

type Env = Record<string, string | undefined>;

/** ~/.config/interchange, or $XDG_CONFIG_HOME/interchange. */
export function configDir(env: Env): string {
	const base = env.XDG_CONFIG_HOME || join(env.HOME || ".", ".config");
	return join(base, "interchange");
}

export const defaultKeyPath = (env: Env) => join(configDir(env), "id_ed25519");
export const sessionPath = (env: Env) => join(configDir(env), "session.json");
