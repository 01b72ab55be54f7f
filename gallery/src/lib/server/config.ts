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

/**
 * Whether pages offer the daemon's WebP variants (`GALLERY_WEBP`, default on;
 * `0`/`false`/`off` serves only the JPEG variants, e.g. to compare page weights).
 */
export function webpFromEnv(env: Env): boolean {
	const raw = env.GALLERY_WEBP?.trim().toLowerCase();
	return !(raw === '0' || raw === 'false' || raw === 'off' || raw === 'no');
}

/**
 * Seconds between the polls of an open participant page (`GALLERY_LIVE_INTERVAL`,
 * default and minimum 15, at most 3600; `0` turns live updates off).
 */
export function liveIntervalFromEnv(env: Env): number {
	const raw = env.GALLERY_LIVE_INTERVAL?.trim();
	if (!raw || !/^\d{1,4}$/.test(raw)) return 15;
	const n = Number(raw);
	if (n === 0) return 0;
	return Math.min(Math.max(n, 15), 3600);
}
