import type { ProviderPreset } from "./presets.ts";

/**
 * A base URL given without a path (`https://api.openai.com`, as the seeds and many vendor
 * docs write it) gets the preset's own version path (`/v1`, `/compatible-mode/v1`, …), so
 * requests reach the API rather than the site root. A URL with any path is taken as given;
 * trailing slashes go. A preset without a default URL (custom) assumes the usual `/v1`;
 * Azure's default has no path, so Azure URLs stay as they are.
 */
export function normaliseBaseUrl(url: string, preset: ProviderPreset): string {
	const trimmed = url.replace(/\/+$/, "");
	let parsed: URL;
	try {
		parsed = new URL(trimmed);
	} catch {
		return trimmed;
	}
	if (parsed.pathname !== "/" || parsed.search || parsed.hash) return trimmed;
	const versionPath = preset.baseUrl ? new URL(preset.baseUrl).pathname.replace(/\/+$/, "") : "/v1";
	return `${trimmed}${versionPath}`;
}
