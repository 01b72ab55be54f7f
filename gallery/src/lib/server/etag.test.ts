import { describe, expect, it } from 'vitest';
import type { Photo, PhotoPage } from '$lib/types';
import { etagMatches, pageEtag } from './etag';

const photo = (id: string, url = 'https://s3/x?sig=1'): Photo => ({
	id,
	takenAt: null,
	takenLabel: null,
	thumbnailUrl: url,
	fullsizeUrl: url,
	width: 2,
	height: 1,
	thumbnailWidth: 2,
	thumbnailHeight: 1,
	thumbnailWebpUrl: null,
	fullsizeWebpUrl: null
});
const page = (photos: Photo[]): PhotoPage => ({ code: '1', photos, nextCursor: null, registered: null, suggestions: [] });

describe('page ETag', () => {
	it('ignores URL signatures but changes with the photos', () => {
		const a = pageEtag(page([photo('a', 'https://s3/x?sig=1')]));
		expect(pageEtag(page([photo('a', 'https://s3/x?sig=2')]))).toBe(a);
		expect(pageEtag(page([photo('a'), photo('b')]))).not.toBe(a);
		expect(a).toMatch(/^W\/"[A-Za-z0-9_-]{27}"$/);
	});
	it('matches If-None-Match lists, weak or strong, and *', () => {
		const e = pageEtag(page([]));
		expect(etagMatches(e, e)).toBe(true);
		expect(etagMatches(`"x", ${e.slice(2)}`, e)).toBe(true);
		expect(etagMatches('*', e)).toBe(true);
		expect(etagMatches('"x"', e)).toBe(false);
		expect(etagMatches(null, e)).toBe(false);
	});
});
