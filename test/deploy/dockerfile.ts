/** A small Dockerfile reader for the deployment tests: stages and their instructions. */

export interface Instruction {
	op: string;
	/** The arguments as written, continuation lines joined. */
	args: string;
}

export interface Stage {
	base: string;
	name?: string;
	instructions: Instruction[];
}

export function parseDockerfile(text: string): Stage[] {
	const logical: string[] = [];
	let pending = "";
	for (const raw of text.split("\n")) {
		const line = raw.trim();
		if (pending === "" && (line === "" || line.startsWith("#"))) continue;
		if (line.endsWith("\\")) {
			pending += `${line.slice(0, -1).trim()} `;
			continue;
		}
		logical.push((pending + line).trim());
		pending = "";
	}
	const stages: Stage[] = [];
	for (const l of logical) {
		const [, op = "", args = ""] = /^(\S+)\s*(.*)$/.exec(l) ?? [];
		const upper = op.toUpperCase();
		if (upper === "FROM") {
			const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
			if (!m?.[1]) throw new Error(`bad FROM: ${l}`);
			stages.push({ base: m[1], name: m[2], instructions: [] });
			continue;
		}
		const stage = stages.at(-1);
		if (!stage) throw new Error(`instruction before FROM: ${l}`);
		stage.instructions.push({ op: upper, args });
	}
	return stages;
}

export interface Copy {
	from?: string;
	sources: string[];
	dest: string;
}

/** COPY's flags (--from, --chown, …) and its sources and destination. */
export function parseCopy(args: string): Copy {
	const words = args.split(/\s+/).filter(Boolean);
	let from: string | undefined;
	while (words[0]?.startsWith("--")) {
		const flag = words.shift() as string;
		if (flag.startsWith("--from=")) from = flag.slice("--from=".length);
	}
	const dest = words.pop();
	if (!dest || words.length === 0) throw new Error(`bad COPY: ${args}`);
	return { from, sources: words, dest };
}

/** The JSON-array (exec) form of CMD, HEALTHCHECK CMD, …, or the shell form as one string. */
export function execForm(args: string): string[] {
	return args.startsWith("[") ? (JSON.parse(args) as string[]) : [args];
}
