/**
 * Time maths of the "photos by time and place" browser: the runner picks a
 * wall-clock time in the race's time zone; the gallery shows the photos
 * taken within ±10 minutes of it, and steps earlier or later by a whole
 * window. Pure, so the pages and the unit tests share it.
 */

/** Half the window shown around the chosen time. */
export const HALF_WINDOW_MS = 10 * 60 * 1000;
/** One step of "earlier" / "later": the next window, without overlap. */
export const STEP_MS = 2 * HALF_WINDOW_MS;

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?$/;
const ZONED = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/i;

/** Offset of `timeZone` from UTC at instant `ms`, in ms (positive east of Greenwich). */
export function zoneOffsetMs(ms: number, timeZone: string): number {
	const parts = new Intl.DateTimeFormat('en-GB', {
		timeZone,
		hourCycle: 'h23',
		year: 'numeric',
		month: '2-digit',
		day: '2-digit',
		hour: '2-digit',
		minute: '2-digit',
		second: '2-digit'
	}).formatToParts(new Date(ms));
	const f = Object.fromEntries(parts.map((p) => [p.type, p.value]));
	const asUtc = Date.UTC(+f.year, +f.month - 1, +f.day, +f.hour, +f.minute, +f.second);
	return asUtc - Math.floor(ms / 1000) * 1000;
}

/**
 * The instant a runner means by `raw`: "2026-05-03T09:30" (as a
 * datetime-local field sends it) is a wall-clock time in `timeZone`; an
 * RFC 3339 time with Z or an offset is taken as is. Null for anything else.
 */
export function parseAt(raw: string | null | undefined, timeZone: string): Date | null {
	if (!raw || raw.length > 40) return null;
	const v = raw.trim();
	if (ZONED.test(v)) {
		const t = Date.parse(v);
		return Number.isFinite(t) ? new Date(t) : null;
	}
	const m = LOCAL.exec(v);
	if (!m) return null;
	const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? '0'].map(Number);
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return null;
	const wall = Date.UTC(y, mo - 1, d, h, mi, s);
	if (new Date(wall).getUTCDate() !== d) return null; // 31 April and the like
	// The offset at the guess, then again at the result (right across DST changes).
	let t = wall - zoneOffsetMs(wall, timeZone);
	t = wall - zoneOffsetMs(t, timeZone);
	return new Date(t);
}

/** "2026-05-03T09:30" for `at` in `timeZone`: the value of a datetime-local field and of links. */
export function formatAt(at: Date, timeZone: string): string {
	const local = new Date(at.getTime() + zoneOffsetMs(at.getTime(), timeZone));
	return local.toISOString().slice(0, 16);
}

/** The window shown around `at`: [at − 10 min, at + 10 min). */
export function windowAround(at: Date): { from: Date; to: Date } {
	return { from: new Date(at.getTime() - HALF_WINDOW_MS), to: new Date(at.getTime() + HALF_WINDOW_MS) };
}

/** The centre of the window before (-1) or after (+1) the one around `at`. */
export function step(at: Date, direction: -1 | 1): Date {
	return new Date(at.getTime() + direction * STEP_MS);
}

/** Query string of a browse link (only the parameters that are set). */
export function browseHref(at: string, photographer: string | null, cursor?: string | null): string {
	const q = new URLSearchParams({ at });
	if (photographer !== null && photographer !== undefined) q.set('photographer', photographer);
	if (cursor) q.set('cursor', cursor);
	return `/browse?${q}`;
}

/** A photographer filter from the query: a valid name, "" for photos without a folder, or null (all). */
export function parsePhotographer(raw: string | null): string | null | undefined {
	if (raw === null) return null;
	if (raw === '*') return null;
	if (raw === '' || /^[a-z0-9][a-z0-9_-]{0,39}$/.test(raw)) return raw;
	return undefined;
}
