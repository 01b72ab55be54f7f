/** One photo as the gallery pages use it (a subset of the daemon's image object). */
export interface Photo {
	id: string;
	/** ISO 8601 capture time, or null when unknown. */
	takenAt: string | null;
	/** Capture time formatted for the race's time zone, e.g. "09:14", or null. */
	takenLabel: string | null;
	thumbnailUrl: string;
	fullsizeUrl: string;
	width: number;
	height: number;
	thumbnailWidth: number;
	thumbnailHeight: number;
	/** WebP variants, when the daemon made them (served through <picture> with the JPEG as fallback). */
	thumbnailWebpUrl: string | null;
	fullsizeWebpUrl: string | null;
}

/** A code with photos one edit away from a code without any. */
export interface Suggestion {
	code: string;
	photos: number;
}

/** One page of a participant's photos as served by `/p/{code}/photos`. */
export interface PhotoPage {
	code: string;
	photos: Photo[];
	nextCursor: string | null;
	/** With a roster: whether the code is a registered participant; null without one. */
	registered: boolean | null;
	/** Codes with photos one edit away; only when this (first) page has no photos. */
	suggestions: Suggestion[];
}

export interface Theme {
	raceName: string;
	accentColor: string;
	accentTextColor: string;
	logoUrl: string | null;
	footerText: string | null;
	raceDate: string | null;
}
