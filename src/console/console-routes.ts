import page from "./ui/index.html";

/** Where the console lives; its hashed assets are under `${CONSOLE_PATH}/assets/`. */
export const CONSOLE_PATH = "/console";

/**
 * Only the console's own files and the admin API on this origin: nothing from elsewhere runs
 * or loads. uPlot positions its cursor and legend with inline styles, hence style-src's
 * 'unsafe-inline' (styles only, never scripts).
 */
const SECURITY_HEADERS = {
	"content-security-policy":
		"default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
	"x-content-type-options": "nosniff",
	"referrer-policy": "no-referrer",
};

interface BuiltFile {
	body: Uint8Array<ArrayBuffer>;
	gzipped: Uint8Array<ArrayBuffer>;
	type: string;
	etag: string;
}

interface ConsoleBuild {
	html: BuiltFile;
	assets: Map<string, BuiltFile>;
}

const fileOf = (body: Uint8Array<ArrayBuffer>, type: string, hash: string): BuiltFile => ({
	body,
	gzipped: Bun.gzipSync(body),
	type,
	etag: `"${hash}"`,
});

/**
 * Bundles the page with Bun's bundler, in memory, on the first console request of this
 * worker. Not the HTML import's own serving: that bundles per server on its first page view,
 * so with several workers on one port an asset request reaching a worker that has not yet
 * served the page would 404. Content hashes make every worker's bundle name the same files.
 */
async function build(): Promise<ConsoleBuild> {
	const out = await Bun.build({
		entrypoints: [page.index],
		minify: true,
		publicPath: `${CONSOLE_PATH}/`,
		naming: { entry: "[name].[ext]", chunk: "assets/[name]-[hash].[ext]", asset: "assets/[name]-[hash].[ext]" },
	});
	if (!out.success) throw new AggregateError(out.logs, "the console did not bundle");
	let html: BuiltFile | null = null;
	const assets = new Map<string, BuiltFile>();
	for (const o of out.outputs) {
		const file = fileOf(new Uint8Array(await o.arrayBuffer()), o.type, o.hash ?? Bun.hash(o.path).toString(36));
		if (o.type.startsWith("text/html")) html = file;
		else assets.set(`${CONSOLE_PATH}/${o.path.replace(/^\.\//, "")}`, file);
	}
	if (!html) throw new Error("the console bundle has no page");
	return { html, assets };
}

function respond(request: Request, file: BuiltFile, cacheControl: string): Response {
	const headers: Record<string, string> = {
		...SECURITY_HEADERS,
		"content-type": file.type,
		"cache-control": cacheControl,
		etag: file.etag,
		vary: "accept-encoding",
	};
	if (request.headers.get("if-none-match") === file.etag) return new Response(null, { status: 304, headers });
	const gzip = /\bgzip\b/.test(request.headers.get("accept-encoding") ?? "");
	if (gzip) headers["content-encoding"] = "gzip";
	return new Response(gzip ? file.gzipped : file.body, { headers });
}

/**
 * The console's routes for Bun's router: the page (revalidated on every load, so a new
 * version shows at once) and its content-hashed assets (cached for a year). They sit beside
 * the data plane's routes and share nothing with them.
 */
export function consoleRoutes(
	onError: (err: unknown) => void,
): Record<string, { GET: (r: Request) => Promise<Response> }> {
	let built: Promise<ConsoleBuild> | null = null;
	const current = () => {
		built ??= build().catch((err) => {
			built = null;
			throw err;
		});
		return built;
	};
	const unavailable = (err: unknown) => {
		onError(err);
		return new Response("The console could not be built; see the gateway's log.", {
			status: 503,
			headers: { "content-type": "text/plain; charset=utf-8" },
		});
	};
	return {
		[CONSOLE_PATH]: {
			GET: (request) => current().then((b) => respond(request, b.html, "no-cache"), unavailable),
		},
		[`${CONSOLE_PATH}/assets/*`]: {
			GET: (request) =>
				current().then((b) => {
					const file = b.assets.get(new URL(request.url).pathname);
					if (!file) return new Response("Not found", { status: 404, headers: { "content-type": "text/plain" } });
					return respond(request, file, "public, max-age=31536000, immutable");
				}, unavailable),
		},
	};
}
