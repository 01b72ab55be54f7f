/**
 * Live updates of a participant page: which polled photos are new to the
 * reader, and where they go when the reader asks for them. Pure, so the page
 * and the unit tests share it.
 */

/** Seconds between two polls of an open, visible page (the least the gallery allows). */
export const LIVE_MIN_INTERVAL = 15;

interface HasId {
	id: string;
}

/**
 * Photos of `polled` (the API's order) that the reader has not seen.
 * When the reader has not loaded every page (`shownComplete` false), only
 * new photos that fall before the last shown one count: the others belong
 * to pages the reader will load with "Load more".
 */
export function newPhotos<T extends HasId>(shown: T[], polled: T[], shownComplete: boolean): T[] {
	const known = new Set(shown.map((p) => p.id));
	let end = polled.length;
	if (!shownComplete) {
		end = -1;
		polled.forEach((p, i) => {
			if (known.has(p.id)) end = i;
		});
	}
	return polled.slice(0, Math.max(end, 0)).filter((p) => !known.has(p.id));
}

/**
 * Insert `fresh` into `shown` at the places the API's order (`polled`) gives
 * them, keeping every shown photo and the shown order: a fresh photo goes
 * before the first shown photo that comes after it in `polled`. A shown photo
 * the poll no longer lists stays right after its predecessor.
 */
export function insertPhotos<T extends HasId>(shown: T[], polled: T[], fresh: T[]): T[] {
	const pos = new Map(polled.map((p, i) => [p.id, i]));
	let last = -1;
	const shownPos = shown.map((p) => {
		const q = pos.get(p.id);
		if (q === undefined) return last + 0.5;
		last = q;
		return q;
	});
	const add = [...fresh].sort((a, b) => (pos.get(a.id) ?? Infinity) - (pos.get(b.id) ?? Infinity));
	const out: T[] = [];
	let i = 0;
	let j = 0;
	while (i < shown.length || j < add.length) {
		if (j < add.length && (i >= shown.length || (pos.get(add[j].id) ?? Infinity) < shownPos[i])) out.push(add[j++]);
		else out.push(shown[i++]);
	}
	return out;
}

/** Milliseconds until the next poll: never sooner than `intervalMs` after the last one. */
export function nextPollDelay(lastPollAt: number, now: number, intervalMs: number): number {
	return Math.max(0, lastPollAt + intervalMs - now);
}

/** "1 new photo", "2 new photos". */
export function newPhotosLabel(n: number): string {
	return n === 1 ? '1 new photo' : `${n} new photos`;
}
