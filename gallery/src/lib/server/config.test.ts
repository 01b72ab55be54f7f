import { describe, expect, it } from 'vitest';
import { DEFAULT_PAGE_SIZE, apiBaseUrlFromEnv, liveIntervalFromEnv, pageSizeFromEnv, timeZoneFromEnv, webpFromEnv } from './config';

describe('apiBaseUrlFromEnv', () => {
	it('normalises the base URL', () => {
		expect(apiBaseUrlFromEnv({ PHOTOFINISH_API_URL: 'http://photofinishd:8080/' })).toBe('http://photofinishd:8080');
		expect(apiBaseUrlFromEnv({ PHOTOFINISH_API_URL: ' https://api.example.com/v1// ' })).toBe('https://api.example.com/v1');
		expect(apiBaseUrlFromEnv({ PHOTOFINISH_API_URL: 'http://h:1/x?y=1#z' })).toBe('http://h:1/x');
	});

	it('returns null when missing or not http(s)', () => {
		expect(apiBaseUrlFromEnv({})).toBeNull();
		expect(apiBaseUrlFromEnv({ PHOTOFINISH_API_URL: '' })).toBeNull();
		expect(apiBaseUrlFromEnv({ PHOTOFINISH_API_URL: 'photofinishd:8080' })).toBeNull();
		expect(apiBaseUrlFromEnv({ PHOTOFINISH_API_URL: 'file:///etc/passwd' })).toBeNull();
	});
});

describe('pageSizeFromEnv', () => {
	it('accepts 1..500', () => {
		expect(pageSizeFromEnv({ GALLERY_PAGE_SIZE: '2' })).toBe(2);
		expect(pageSizeFromEnv({ GALLERY_PAGE_SIZE: '500' })).toBe(500);
	});

	it('falls back to the default', () => {
		for (const v of [undefined, '', '0', '501', '-1', '1.5', 'ten', '1e2']) {
			expect(pageSizeFromEnv({ GALLERY_PAGE_SIZE: v })).toBe(DEFAULT_PAGE_SIZE);
		}
	});
});

describe('timeZoneFromEnv', () => {
	it('accepts IANA zones and falls back to UTC', () => {
		expect(timeZoneFromEnv({ GALLERY_TIMEZONE: 'Europe/Berlin' })).toBe('Europe/Berlin');
		expect(timeZoneFromEnv({ GALLERY_TIMEZONE: 'Mars/Olympus' })).toBe('UTC');
		expect(timeZoneFromEnv({})).toBe('UTC');
	});
});

describe('live interval and WebP switch', () => {
	it('polls no more often than every 15 s', () => {
		expect(liveIntervalFromEnv({})).toBe(15);
		expect(liveIntervalFromEnv({ GALLERY_LIVE_INTERVAL: '5' })).toBe(15);
		expect(liveIntervalFromEnv({ GALLERY_LIVE_INTERVAL: '30' })).toBe(30);
		expect(liveIntervalFromEnv({ GALLERY_LIVE_INTERVAL: '0' })).toBe(0);
		expect(liveIntervalFromEnv({ GALLERY_LIVE_INTERVAL: '9999' })).toBe(3600);
		expect(liveIntervalFromEnv({ GALLERY_LIVE_INTERVAL: 'x' })).toBe(15);
	});
	it('offers WebP unless turned off', () => {
		expect(webpFromEnv({})).toBe(true);
		expect(webpFromEnv({ GALLERY_WEBP: '0' })).toBe(false);
		expect(webpFromEnv({ GALLERY_WEBP: 'off' })).toBe(false);
		expect(webpFromEnv({ GALLERY_WEBP: '1' })).toBe(true);
	});
});
