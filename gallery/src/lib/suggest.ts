/**
 * Words for an empty participant page: "No photos for 10432. Did you mean
 * 10423 (5 photos)?", and what a roster says about the typed code.
 * Pure, so the page and the unit tests share it.
 */
import type { Suggestion } from './types';

/** "1 photo", "5 photos". */
export function photoCount(n: number): string {
	return n === 1 ? '1 photo' : `${n} photos`;
}

/** One piece of the "did you mean" sentence: plain text or a link to a code. */
export type SentencePart = { text: string } | { code: string; label: string };

/**
 * "No photos for 10432. Did you mean 10423 (5 photos), 10431 (2 photos) or
 * 1042 (1 photo)?" as parts, so the codes can be links. Empty without suggestions.
 */
export function didYouMean(code: string, suggestions: Suggestion[]): SentencePart[] {
	if (suggestions.length === 0) return [];
	const parts: SentencePart[] = [{ text: `No photos for ${code}. Did you mean ` }];
	suggestions.forEach((s, i) => {
		if (i > 0) parts.push({ text: i === suggestions.length - 1 ? ' or ' : ', ' });
		parts.push({ code: s.code, label: `${s.code} (${photoCount(s.photos)})` });
	});
	parts.push({ text: '?' });
	return parts;
}

/** The sentence as plain text (for tests and the page title of screen readers). */
export function sentenceText(parts: SentencePart[]): string {
	return parts.map((p) => ('text' in p ? p.text : p.label)).join('');
}

export interface EmptyState {
	heading: string;
	lines: string[];
}

/**
 * What the empty first page says. `registered` comes from the race's roster:
 * true (a runner of this race, photos not in yet), false (not a bib of this
 * race), null (no roster: we cannot tell). `suggested`: the page also shows
 * the "did you mean" sentence.
 */
export function emptyState(code: string, registered: boolean | null, suggested = false): EmptyState {
	if (registered === true) {
		return {
			heading: 'Your photos are not in yet',
			lines: [
				`Bib ${code} is registered for this race, but no photos of it have been uploaded yet.`,
				'Photos appear here as the photographers upload them. Keep this page open or check back later.'
			]
		};
	}
	if (registered === false) {
		return {
			heading: `${code} is not a bib number of this race`,
			lines: ['Check the number printed on your bib and try again.']
		};
	}
	if (suggested) {
		// The "did you mean" sentence already says there are no photos.
		return {
			heading: 'No photos yet',
			lines: ['Photos appear as the photographers upload them: if the number is right, check back in a few minutes.']
		};
	}
	return {
		heading: 'No photos yet',
		lines: [
			`No photos for ${code} yet — photos appear as the photographers upload them.`,
			'Check back in a few minutes, or make sure the number matches your bib.'
		]
	};
}
