/**
 * Participant (bib) codes, shared by the browser and the server.
 *
 * The daemon normalises codes to upper case and accepts `^[A-Z0-9_.-]{1,64}$`.
 * The gallery trims and upper-cases what a runner typed before validating, so
 * " 10423 " and "a-7" are accepted as "10423" and "A-7".
 */

export const CODE_MAX_LENGTH = 64;
export const CODE_REGEX = /^[A-Z0-9_.-]{1,64}$/;

/**
 * Value for the HTML `pattern` attribute. Browsers compile it with the `v` flag
 * and match it against the whole value; lower case and surrounding spaces are
 * allowed because they are normalised away.
 */
export const CODE_INPUT_PATTERN = '\\s*[A-Za-z0-9_.\\-]{1,64}\\s*';

export const CODE_RULES_MESSAGE =
	'A bib number has 1 to 64 letters, digits, dots, dashes or underscores, without spaces.';

export type CodeCheck = { ok: true; code: string } | { ok: false; code: string; message: string };

/** Trim and upper-case ASCII letters only (so that e.g. "ı" never turns into "I"). */
export function normaliseCode(raw: string): string {
	return raw.trim().replace(/[a-z]+/g, (s) => s.toUpperCase());
}

export function checkCode(raw: unknown): CodeCheck {
	if (typeof raw !== 'string') {
		return { ok: false, code: '', message: 'Enter the number printed on your race bib.' };
	}
	const code = normaliseCode(raw);
	if (code.length === 0) {
		return { ok: false, code, message: 'Enter the number printed on your race bib.' };
	}
	if (code.length > CODE_MAX_LENGTH) {
		return {
			ok: false,
			code,
			message: `That is too long for a bib number (at most ${CODE_MAX_LENGTH} characters).`
		};
	}
	if (!CODE_REGEX.test(code)) {
		const bad = [...code].find((c) => !/[A-Z0-9_.-]/.test(c)) ?? '';
		const shown = /\s/.test(bad) ? 'a space' : `“${bad}”`;
		return {
			ok: false,
			code,
			message: `${shown.charAt(0).toUpperCase()}${shown.slice(1)} can’t be part of a bib number. ${CODE_RULES_MESSAGE}`
		};
	}
	return { ok: true, code };
}

/** Path of a participant's gallery page. */
export function participantPath(code: string): string {
	return `/p/${encodeURIComponent(code)}`;
}

/** Path of the same-origin download route for one photo of a participant. */
export function downloadPath(code: string, id: string): string {
	return `${participantPath(code)}/download/${encodeURIComponent(id)}`;
}
