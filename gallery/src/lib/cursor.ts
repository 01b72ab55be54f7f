/**
 * Paging cursors are opaque strings issued by the daemon (`nextCursor`).
 * The gallery only checks that a cursor from the query string is a plausible
 * token before passing it back unchanged.
 */

export const CURSOR_MAX_LENGTH = 1024;

/** Printable ASCII without spaces. */
const CURSOR_REGEX = /^[\x21-\x7e]+$/;

export type CursorParse = { ok: true; cursor: string | null } | { ok: false };

/** Parse the `cursor` query parameter: absent or empty means "first page". */
export function parseCursor(value: string | null | undefined): CursorParse {
	if (value === null || value === undefined || value === '') return { ok: true, cursor: null };
	if (value.length > CURSOR_MAX_LENGTH || !CURSOR_REGEX.test(value)) return { ok: false };
	return { ok: true, cursor: value };
}

/** Is this a cursor the gallery can hand out in a link? (Same rule as parsing.) */
export function isValidCursor(value: unknown): value is string {
	if (typeof value !== 'string' || value === '') return false;
	const parsed = parseCursor(value);
	return parsed.ok && parsed.cursor !== null;
}

/** Link to the next page of a participant's gallery (works without JavaScript). */
export function nextPageHref(participantPath: string, cursor: string): string {
	return `${participantPath}?cursor=${encodeURIComponent(cursor)}`;
}
