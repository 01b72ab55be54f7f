import { describe, expect, it } from 'vitest';
import {
	DEFAULT_ACCENT_COLOR,
	DEFAULT_RACE_NAME,
	contrastRatio,
	formatRaceDate,
	readableTextOn,
	sanitiseColor,
	sanitiseText,
	sanitiseUrl,
	themeFromEnv
} from './theme';

describe('sanitiseColor', () => {
	it('accepts #rgb and #rrggbb and normalises them', () => {
		expect(sanitiseColor('#0B5CAD')).toBe('#0b5cad');
		expect(sanitiseColor(' #abc ')).toBe('#aabbcc');
	});

	it.each([
		'red',
		'0b5cad',
		'#0b5cad80',
		'#12345',
		'#ggg',
		'rgb(1,2,3)',
		'#fff;background:url(x)',
		'#fff}body{display:none',
		'',
		undefined
	])('rejects %j', (value) => {
		expect(sanitiseColor(value)).toBeNull();
	});
});

describe('contrast', () => {
	it('computes WCAG contrast ratios', () => {
		expect(contrastRatio('#000000', '#ffffff')).toBeCloseTo(21, 5);
		expect(contrastRatio('#777777', '#777777')).toBeCloseTo(1, 5);
	});

	it('picks a readable text colour for any accent', () => {
		expect(readableTextOn('#0b5cad')).toBe('#ffffff');
		expect(readableTextOn('#ffd700')).toBe('#000000');
		for (const accent of ['#ff0000', '#00ff00', '#0000ff', '#808080', '#b3261e', '#f5f5f5', '#123456']) {
			expect(contrastRatio(accent, readableTextOn(accent))).toBeGreaterThanOrEqual(4.5);
		}
	});
});

describe('sanitiseText', () => {
	it('strips control and bidi characters, collapses whitespace', () => {
		expect(sanitiseText('  City\tMarathon\n2026\u0000 ', 80)).toBe('City Marathon 2026');
		expect(sanitiseText('a\u202eb', 80)).toBe('a b');
	});

	it('caps the length', () => {
		const t = sanitiseText('x'.repeat(200), 80);
		expect(t).toHaveLength(80);
		expect(t?.endsWith('…')).toBe(true);
	});

	it('returns null for empty values', () => {
		expect(sanitiseText('   ', 80)).toBeNull();
		expect(sanitiseText(undefined, 80)).toBeNull();
	});

	it('leaves markup as text (the pages escape it)', () => {
		expect(sanitiseText('<b>Run</b> & "fun"', 80)).toBe('<b>Run</b> & "fun"');
	});
});

describe('sanitiseUrl', () => {
	it('accepts http(s) URLs and root-relative paths', () => {
		expect(sanitiseUrl('https://cdn.example.com/logo.svg')).toBe('https://cdn.example.com/logo.svg');
		expect(sanitiseUrl('http://example.com/a b.png')).toBe('http://example.com/a%20b.png');
		expect(sanitiseUrl('/logo.png')).toBe('/logo.png');
	});

	it.each([
		'javascript:alert(1)',
		'data:image/svg+xml,<svg/>',
		'//evil.example/logo.png',
		'/\\evil.example',
		'ftp://example.com/x.png',
		'https://user:pw@example.com/x.png',
		'logo.png',
		'',
		undefined
	])('rejects %j', (value) => {
		expect(sanitiseUrl(value)).toBeNull();
	});
});

describe('formatRaceDate', () => {
	it('formats ISO dates and keeps other text', () => {
		expect(formatRaceDate('2026-05-03')).toBe('3 May 2026');
		expect(formatRaceDate('2026-02-30')).toBe('2026-02-30');
		expect(formatRaceDate('Sunday 3 May')).toBe('Sunday 3 May');
		expect(formatRaceDate('')).toBeNull();
	});
});

describe('themeFromEnv', () => {
	it('uses defaults when nothing is set', () => {
		expect(themeFromEnv({})).toEqual({
			raceName: DEFAULT_RACE_NAME,
			accentColor: DEFAULT_ACCENT_COLOR,
			accentTextColor: '#ffffff',
			logoUrl: null,
			footerText: null,
			raceDate: null
		});
	});

	it('reads and sanitises every variable', () => {
		expect(
			themeFromEnv({
				GALLERY_RACE_NAME: ' Lakeside City Marathon ',
				GALLERY_ACCENT_COLOR: '#FFD700',
				GALLERY_LOGO_URL: 'https://cdn.example.com/logo.svg',
				GALLERY_FOOTER_TEXT: 'Photos by\nFinish Line Studio',
				GALLERY_RACE_DATE: '2026-05-03'
			})
		).toEqual({
			raceName: 'Lakeside City Marathon',
			accentColor: '#ffd700',
			accentTextColor: '#000000',
			logoUrl: 'https://cdn.example.com/logo.svg',
			footerText: 'Photos by Finish Line Studio',
			raceDate: '3 May 2026'
		});
	});

	it('falls back to the default accent for an invalid colour', () => {
		const theme = themeFromEnv({ GALLERY_ACCENT_COLOR: 'red; } body { display: none' });
		expect(theme.accentColor).toBe(DEFAULT_ACCENT_COLOR);
		expect(themeFromEnv({ GALLERY_LOGO_URL: 'javascript:alert(1)' }).logoUrl).toBeNull();
	});
});
