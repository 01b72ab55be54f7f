/** Non-theme runtime settings read from the environment. */

type Env = Record<string, string | undefined>;

export const DEFAULT_PAGE_SIZE = 48;
export const MAX_PAGE_SIZE = 500;
export const DEFAULT_TIMEZONE = 'UTC';

/** Photos per page requested from the daemon (`GALLERY_PAGE_SIZE`, 1–500, default 48). */
export function pageSizeFromEnv(env: Env): number {
	const raw = env.GALLERY_PAGE_SIZE?.trim();
	if (!raw || !/^\d{1,3}$/.test(raw)) return DEFAULT_PAGE_SIZE;
	const n = Number(raw);
	return n >= 1 && n <= MAX_PAGE_SIZE ? n : DEFAULT_PAGE_SIZE;
}

/** IANA time zone used to show capture times (`GALLERY_TIMEZONE`, default UTC). */
export function timeZoneFromEnv(env: Env): string {
	const raw = env.GALLERY_TIMEZONE?.trim();
	if (!raw) return DEFAULT_TIMEZONE;
	try {
		new Intl.DateTimeFormat('en-GB', { timeZone: raw });
		return raw;
	} catch {
		return DEFAULT_TIMEZONE;
	}
}

/** Base URL of the photofinish daemon (`PHOTOFINISH_API_URL`), without trailing slash, or null. */
export function apiBaseUrlFromEnv(env: Env): string | null {
	const raw = env.PHOTOFINISH_API_URL?.trim();
	if (!raw) return null;
	try {
		const url = new URL(raw);
		if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
		url.search = '';
		url.hash = '';
		return url.href.replace(/\/+$/, '');
	} catch {
		return null;
	}
}
