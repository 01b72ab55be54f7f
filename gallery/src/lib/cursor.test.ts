import { describe, expect, it } from 'vitest';
import { CURSOR_MAX_LENGTH, isValidCursor, nextPageHref, parseCursor } from './cursor';

describe('parseCursor', () => {
	it('treats absent and empty as the first page', () => {
		expect(parseCursor(null)).toEqual({ ok: true, cursor: null });
		expect(parseCursor(undefined)).toEqual({ ok: true, cursor: null });
		expect(parseCursor('')).toEqual({ ok: true, cursor: null });
	});

	it('passes opaque tokens through unchanged', () => {
		for (const c of ['eyJvIjoxMDB9', 'abc+/=', 'a:b~c.d_e-f', 'x'.repeat(CURSOR_MAX_LENGTH)]) {
			expect(parseCursor(c)).toEqual({ ok: true, cursor: c });
		}
	});

	it('rejects spaces, control characters, non-ASCII and over-long values', () => {
		for (const c of ['a b', 'a\nb', 'a\u0000', 'café', 'x'.repeat(CURSOR_MAX_LENGTH + 1)]) {
			expect(parseCursor(c)).toEqual({ ok: false });
		}
	});
});

describe('isValidCursor', () => {
	it('accepts only non-empty valid strings', () => {
		expect(isValidCursor('abc')).toBe(true);
		expect(isValidCursor('')).toBe(false);
		expect(isValidCursor(null)).toBe(false);
		expect(isValidCursor(5)).toBe(false);
		expect(isValidCursor('a b')).toBe(false);
	});
});

describe('nextPageHref', () => {
	it('encodes the cursor into the query string', () => {
		expect(nextPageHref('/p/10423', 'abc')).toBe('/p/10423?cursor=abc');
		expect(nextPageHref('/p/10423', 'a+b/c=&d')).toBe('/p/10423?cursor=a%2Bb%2Fc%3D%26d');
		const url = new URL(nextPageHref('/p/1', 'a+b/c=&d'), 'http://x');
		expect(url.searchParams.get('cursor')).toBe('a+b/c=&d');
	});
});
