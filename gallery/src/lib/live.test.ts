import { describe, expect, it } from 'vitest';
import { insertPhotos, newPhotos, newPhotosLabel, nextPollDelay } from './live';

const p = (...ids: string[]) => ids.map((id) => ({ id }));
const ids = (list: { id: string }[]) => list.map((x) => x.id);

describe('newPhotos', () => {
	it('everything unseen when the reader has every page', () => {
		expect(ids(newPhotos(p('a', 'c'), p('a', 'b', 'c', 'd'), true))).toEqual(['b', 'd']);
		expect(ids(newPhotos([], p('a', 'b'), true))).toEqual(['a', 'b']);
		expect(newPhotos(p('a', 'b'), p('a', 'b'), true)).toEqual([]);
	});

	it('only those before the last shown photo when more pages are not loaded', () => {
		expect(ids(newPhotos(p('a', 'c'), p('a', 'b', 'c', 'd', 'e'), false))).toEqual(['b']);
		expect(newPhotos(p('x'), p('a', 'b'), false)).toEqual([]);
	});
});

describe('insertPhotos', () => {
	it('puts fresh photos where the API order says, without moving shown ones', () => {
		expect(ids(insertPhotos(p('a', 'c'), p('a', 'b', 'c', 'd'), p('d', 'b')))).toEqual(['a', 'b', 'c', 'd']);
		expect(ids(insertPhotos([], p('a', 'b'), p('b', 'a')))).toEqual(['a', 'b']);
		expect(ids(insertPhotos(p('b'), p('a', 'b'), p('a')))).toEqual(['a', 'b']);
	});

	it('keeps a shown photo the poll no longer lists after its predecessor', () => {
		expect(ids(insertPhotos(p('a', 'x', 'c'), p('a', 'b', 'c'), p('b')))).toEqual(['a', 'x', 'b', 'c']);
		expect(ids(insertPhotos(p('x', 'c'), p('a', 'c'), p('a')))).toEqual(['x', 'a', 'c']);
	});
});

describe('polling schedule and words', () => {
	it('waits the rest of the interval since the last poll', () => {
		expect(nextPollDelay(1000, 1000, 15000)).toBe(15000);
		expect(nextPollDelay(1000, 11000, 15000)).toBe(5000);
		expect(nextPollDelay(1000, 60000, 15000)).toBe(0);
	});
	it('labels', () => {
		expect(newPhotosLabel(1)).toBe('1 new photo');
		expect(newPhotosLabel(2)).toBe('2 new photos');
	});
});
