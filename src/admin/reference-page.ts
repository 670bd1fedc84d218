import type { OpenApiDocument } from "./openapi.ts";

const esc = (s: unknown) => String(s ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

interface Operation {
	summary?: string;
	parameters?: { name: string; in: string; required?: boolean; description?: string }[];
	requestBody?: { content: Record<string, { schema: unknown }> };
	responses: Record<string, { description: string }>;
}

/**
 * The admin API reference as one static HTML page rendered from the OpenAPI document: no
 * script, no external stylesheet or font, so it works offline and under any CSP.
 */
export function renderReferencePage(doc: OpenApiDocument): string {
	const sections: string[] = [];
	for (const [path, ops] of Object.entries(doc.paths)) {
		for (const [method, raw] of Object.entries(ops)) {
			const op = raw as Operation;
			const params = op.parameters ?? [];
			const body = op.requestBody?.content["application/json"]?.schema;
			sections.push(`<section id="${esc(`${method}-${path}`)}">
<h2><span class="m ${esc(method)}">${esc(method.toUpperCase())}</span> <code>${esc(path)}</code></h2>
<p>${esc(op.summary)}</p>
${
	params.length > 0
		? `<table><thead><tr><th>parameter</th><th>in</th><th>meaning</th></tr></thead><tbody>${params
				.map(
					(p) =>
						`<tr><td><code>${esc(p.name)}</code>${p.required ? " (required)" : ""}</td><td>${esc(p.in)}</td><td>${esc(p.description)}</td></tr>`,
				)
				.join("")}</tbody></table>`
		: ""
}
${body ? `<details><summary>JSON body schema</summary><pre>${esc(JSON.stringify(body, null, 2))}</pre></details>` : ""}
<ul>${Object.entries(op.responses)
				.map(([status, r]) => `<li><b>${esc(status)}</b>: ${esc(r.description)}</li>`)
				.join("")}</ul>
</section>`);
		}
	}
	return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(doc.info.title)}</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:960px;margin:0 auto;padding:1rem;color:#1b1b1b}
section{border-top:1px solid #ddd;padding:.5rem 0}h2{font-size:1.05rem}code,pre{font-family:ui-monospace,monospace}
pre{background:#f5f5f5;padding:.75rem;overflow:auto}table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}
.m{display:inline-block;min-width:4.5em;padding:0 .4em;border-radius:3px;color:#fff;background:#555;font-size:.85em;text-align:center}
.get{background:#1f6feb}.post{background:#1a7f37}.patch,.put{background:#9a6700}.delete{background:#cf222e}
</style></head><body>
<h1>${esc(doc.info.title)} <small>${esc(doc.info.version)}</small></h1>
<p>${esc(doc.info.description)} Send it as <code>Authorization: Bearer …</code> or <code>X-Admin-Token</code>. The machine-readable document: <code>GET /admin/openapi.json</code>.</p>
${sections.join("\n")}
</body></html>`;
}
