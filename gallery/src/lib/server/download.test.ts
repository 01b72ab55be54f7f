import { describe, expect, it } from 'vitest';
import { downloadFilename, slugify, sniffImageType } from './download';

describe('sniffImageType', () => {
	it('recognises JPEG, PNG and WebP', () => {
		expect(sniffImageType(new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]))).toEqual({ mime: 'image/jpeg', extension: 'jpg' });
		expect(sniffImageType(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0]))).toEqual({ mime: 'image/png', extension: 'png' });
		const webp = new TextEncoder().encode('RIFF\u0000\u0000\u0000\u0000WEBPVP8 ');
		expect(sniffImageType(webp)).toEqual({ mime: 'image/webp', extension: 'webp' });
	});

	it('rejects anything else', () => {
		expect(sniffImageType(new TextEncoder().encode('<html><script>'))).toBeNull();
		expect(sniffImageType(new TextEncoder().encode('{"error":{}}'))).toBeNull();
		expect(sniffImageType(new Uint8Array([0xff, 0xd8]))).toBeNull();
		expect(sniffImageType(new Uint8Array())).toBeNull();
	});
});

describe('downloadFilename', () => {
	it('builds a safe, descriptive file name', () => {
		expect(downloadFilename('Lakeside City Marathon 2026', '10423', 2, 'jpg')).toBe('lakeside-city-marathon-2026-10423-003.jpg');
		expect(downloadFilename('Città "Run" / 10K', 'A-7', 0, 'jpg')).toBe('citta-run-10k-A-7-001.jpg');
		expect(downloadFilename('!!!', '..X', 9, 'jpg')).toBe('photo-_X-010.jpg');
	});

	it('never contains quotes, slashes or control characters', () => {
		const name = downloadFilename('a"b\\c/d\r\ne', 'Z', 0, 'jpg');
		expect(name).toMatch(/^[a-z0-9_.-]+$/i);
	});

	it('slugifies', () => {
		expect(slugify('  Hello,  World!  ')).toBe('hello-world');
		expect(slugify('x'.repeat(100)).length).toBe(40);
	});
});
