/**
 * Runtime theming from environment variables (no rebuild needed).
 * Every value is sanitised; anything unusable falls back to a default.
 */
import type { Theme } from '$lib/types';

export const DEFAULT_RACE_NAME = 'Race photos';
export const DEFAULT_ACCENT_COLOR = '#b3261e';

type Env = Record<string, string | undefined>;

/** Remove control characters, collapse whitespace, trim and cap the length. */
export function sanitiseText(value: string | undefined | null, maxLength: number): string | null {
	if (typeof value !== 'string') return null;
	// eslint-disable-next-line no-control-regex
	let text = value.replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069]/g, ' ');
	text = text.replace(/\s+/g, ' ').trim();
	if (text.length === 0) return null;
	if (text.length > maxLength) text = `${text.slice(0, maxLength - 1).trimEnd()}…`;
	return text;
}

/** Accept `#rgb` or `#rrggbb` (any case); return `#rrggbb` lower case, or null. */
export function sanitiseColor(value: string | undefined | null): string | null {
	if (typeof value !== 'string') return null;
	const v = value.trim().toLowerCase();
	const short = /^#([0-9a-f])([0-9a-f])([0-9a-f])$/.exec(v);
	if (short) return `#${short[1]}${short[1]}${short[2]}${short[2]}${short[3]}${short[3]}`;
	if (/^#[0-9a-f]{6}$/.test(v)) return v;
	return null;
}

function channel(hex: string, offset: number): number {
	const c = parseInt(hex.slice(offset, offset + 2), 16) / 255;
	return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
}

/** WCAG relative luminance of a `#rrggbb` colour. */
export function luminance(hex: string): number {
	return 0.2126 * channel(hex, 1) + 0.7152 * channel(hex, 3) + 0.0722 * channel(hex, 5);
}

/** WCAG contrast ratio between two `#rrggbb` colours. */
export function contrastRatio(a: string, b: string): number {
	const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
	return (hi + 0.05) / (lo + 0.05);
}

/** Black or white, whichever reads better on the given background (always ≥ 4.5:1). */
export function readableTextOn(background: string): '#000000' | '#ffffff' {
	return contrastRatio(background, '#000000') >= contrastRatio(background, '#ffffff')
		? '#000000'
		: '#ffffff';
}

/** Absolute http(s) URL or a root-relative path; anything else (javascript:, data:, //host) is dropped. */
export function sanitiseUrl(value: string | undefined | null): string | null {
	if (typeof value !== 'string') return null;
	const v = value.trim();
	if (v === '' || v.length > 2048) return null;
	if (v.startsWith('/') && !v.startsWith('//') && !v.startsWith('/\\')) {
		return /^[\x21-\x7e]+$/.test(v) ? v : null;
	}
	try {
		const url = new URL(v);
		if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
		if (url.username || url.password) return null;
		return url.href;
	} catch {
		return null;
	}
}

const MONTHS = [
	'January', 'February', 'March', 'April', 'May', 'June',
	'July', 'August', 'September', 'October', 'November', 'December'
];

/** `2026-05-03` → `3 May 2026`; other text is shown as given (sanitised). */
export function formatRaceDate(value: string | undefined | null): string | null {
	const text = sanitiseText(value, 60);
	if (!text) return null;
	const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
	if (m) {
		const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
		const date = new Date(Date.UTC(y, mo - 1, d));
		if (date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d) {
			return `${d} ${MONTHS[mo - 1]} ${y}`;
		}
	}
	return text;
}

export function themeFromEnv(env: Env): Theme {
	const accentColor = sanitiseColor(env.GALLERY_ACCENT_COLOR) ?? DEFAULT_ACCENT_COLOR;
	return {
		raceName: sanitiseText(env.GALLERY_RACE_NAME, 80) ?? DEFAULT_RACE_NAME,
		accentColor,
		accentTextColor: readableTextOn(accentColor),
		logoUrl: sanitiseUrl(env.GALLERY_LOGO_URL),
		footerText: sanitiseText(env.GALLERY_FOOTER_TEXT, 300),
		raceDate: formatRaceDate(env.GALLERY_RACE_DATE)
	};
}
