import { describe, expect, it, vi } from 'vitest';
import { ApiError } from './api';
import { GalleryError, MESSAGES, formatTime, galleryErrorFrom, rateLimitedMessage, requireCode, toPhoto, waitText } from './gallery';

vi.mock('$env/dynamic/private', () => ({ env: {} }));

describe('requireCode', () => {
	it('returns the normalised code or throws a 400', () => {
		expect(requireCode(' a-7 ')).toBe('A-7');
		expect(() => requireCode('a b')).toThrowError(GalleryError);
		try {
			requireCode('a b');
		} catch (e) {
			expect((e as GalleryError).status).toBe(400);
		}
	});
});

describe('galleryErrorFrom', () => {
	const quiet = () => vi.spyOn(console, 'error').mockImplementation(() => {});

	it('maps API failures to 400 or 502 without leaking details', () => {
		const spy = quiet();
		expect(galleryErrorFrom(new ApiError('invalid_code', 'bad code'), 'x')).toMatchObject({ status: 400, message: 'bad code' });
		expect(galleryErrorFrom(new ApiError('rejected', 'cursor', 400, 'invalid_cursor'), 'x')).toMatchObject({ status: 400, message: MESSAGES.staleCursor });
		expect(galleryErrorFrom(new ApiError('rejected', 'gone', 410), 'x')).toMatchObject({ status: 502, message: MESSAGES.unavailable });
		expect(galleryErrorFrom(new ApiError('unavailable', 'ECONNREFUSED 10.0.0.1'), 'x')).toMatchObject({ status: 502, message: MESSAGES.unavailable });
		expect(galleryErrorFrom(new ApiError('bad_response', 'images is not an array'), 'x')).toMatchObject({ status: 502 });
		expect(galleryErrorFrom(new Error('boom'), 'x')).toMatchObject({ status: 502, message: MESSAGES.unavailable });
		const ge = new GalleryError(400, 'kept');
		expect(galleryErrorFrom(ge, 'x')).toBe(ge);
		spy.mockRestore();
	});
});

describe('formatTime / toPhoto', () => {
	it('formats capture times in the race time zone', () => {
		expect(formatTime('2026-05-03T09:14:07.120Z', 'UTC')).toBe('09:14:07');
		expect(formatTime('2026-05-03T09:14:07.120Z', 'Europe/Berlin')).toBe('11:14:07');
		expect(formatTime(null, 'UTC')).toBeNull();
	});

	it('keeps only what the pages need', () => {
		const photo = toPhoto(
			{
				id: 'a',
				takenAt: '2026-05-03T09:14:07.120Z',
				takenWall: '09:14:07',
				thumbnailUrl: 'https://t/a.jpg',
				fullsizeUrl: 'https://f/a.jpg',
				width: 2000,
				height: 1333,
				thumbnailWidth: 500,
				thumbnailHeight: 333,
				codes: ['1', '2'],
				thumbnailWebpUrl: 'https://t/a.webp',
				fullsizeWebpUrl: null,
				photographer: 'alice'
			},
			'UTC'
		);
		expect(photo).toEqual({
			id: 'a',
			takenAt: '2026-05-03T09:14:07.120Z',
			takenLabel: '09:14:07',
			thumbnailUrl: 'https://t/a.jpg',
			fullsizeUrl: 'https://f/a.jpg',
			width: 2000,
			height: 1333,
			thumbnailWidth: 500,
			thumbnailHeight: 333,
			thumbnailWebpUrl: 'https://t/a.webp',
			fullsizeWebpUrl: null
		});
	});
});

describe('rate limited', () => {
	it('becomes a 429 with the wait in words', () => {
		const ge = galleryErrorFrom(new ApiError('rate_limited', 'slow', 429, 'rate_limited', 6), 'x');
		expect(ge).toMatchObject({ status: 429, retryAfter: 6 });
		expect(ge.message).toBe(rateLimitedMessage(6));
		expect(ge.message).toMatch(/wait 6 seconds/);
		expect(waitText(1)).toBe('1 second');
		expect(waitText(59)).toBe('59 seconds');
		expect(waitText(59.2)).toBe('1 minute');
		expect(waitText(60)).toBe('1 minute');
		expect(waitText(121)).toBe('3 minutes');
	});
});
