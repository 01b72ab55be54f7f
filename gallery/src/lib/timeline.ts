/**
 * Time maths of the "photos by time and place" browser: the runner picks a
 * wall-clock time (what the race clocks showed); the gallery shows the photos
 * taken within ±10 minutes of it, and steps earlier or later by a whole
 * window. Pure, so the pages and the unit tests share it.
 */

/** Half the window shown around the chosen time. */
export const HALF_WINDOW_MS = 10 * 60 * 1000;
/** One step of "earlier" / "later": the next window, without overlap. */
export const STEP_MS = 2 * HALF_WINDOW_MS;

const AT = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})?$/i;

/**
 * The time a runner means by `raw` ("2026-05-03T09:30", as a datetime-local
 * field sends it), as the catalog compares capture times: the camera's wall
 * clock read as UTC, whatever zone the camera named. So the fields are taken
 * as they are; a zone suffix (Z or an offset) is accepted and ignored. Null
 * for anything that is not a date and time.
 */
export function parseAt(raw: string | null | undefined): Date | null {
	if (!raw || raw.length > 40) return null;
	const m = AT.exec(raw.trim());
	if (!m) return null;
	const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? '0'].map(Number);
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return null;
	const t = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
	if (t.getUTCDate() !== d) return null; // 31 April and the like
	return t;
}

/** "2026-05-03T09:30": the value of a datetime-local field and of links (the wall clock). */
export function formatAt(at: Date): string {
	return at.toISOString().slice(0, 16);
}

/** "09:31:45": the wall-clock time of a capture time as the API wrote it (its own zone), or null. */
export function wallClock(takenAt: string | null | undefined): string | null {
	const m = typeof takenAt === 'string' ? /^\d{4}-\d{2}-\d{2}T(\d{2}:\d{2}:\d{2})/.exec(takenAt) : null;
	return m ? m[1] : null;
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

/**
 * A photographer filter from the query: a folder name as the daemon lists it
 * (at most 64 characters, no "/" or control characters), "" for photos
 * without a folder, or null (all).
 */
export function parsePhotographer(raw: string | null): string | null | undefined {
	if (raw === null) return null;
	if (raw === '*') return null;
	if (raw.length <= 64 && !/[/\u0000-\u001f\u007f]/.test(raw)) return raw;
	return undefined;
}
