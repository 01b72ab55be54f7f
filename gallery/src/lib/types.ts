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
}

/** One page of a participant's photos as served by `/p/{code}/photos`. */
export interface PhotoPage {
	code: string;
	photos: Photo[];
	nextCursor: string | null;
}

export interface Theme {
	raceName: string;
	accentColor: string;
	accentTextColor: string;
	logoUrl: string | null;
	footerText: string | null;
	raceDate: string | null;
}
