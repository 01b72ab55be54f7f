import { describe, expect, it } from 'vitest';
import { browseHref, formatAt, parseAt, parsePhotographer, step, wallClock, windowAround } from './timeline';

describe('parseAt', () => {
	it('reads a datetime-local value as the wall clock the catalog compares (fields as UTC)', () => {
		expect(parseAt('2026-05-03T09:30')?.toISOString()).toBe('2026-05-03T09:30:00.000Z');
		expect(parseAt('2026-05-03 09:30:15')?.toISOString()).toBe('2026-05-03T09:30:15.000Z');
	});

	it('keeps the wall clock of a time with a zone (the catalog ignores the zone too)', () => {
		expect(parseAt('2026-05-03T09:30:00Z')?.toISOString()).toBe('2026-05-03T09:30:00.000Z');
		expect(parseAt('2026-05-03T09:30:00+02:00')?.toISOString()).toBe('2026-05-03T09:30:00.000Z');
	});

	it('refuses what is not a time', () => {
		for (const bad of [null, '', 'noon', '2026-02-30T10:00', '2026-05-03T24:00', '2026-13-01T10:00', '2026-05-03', 'x'.repeat(50)]) {
			expect(parseAt(bad)).toBeNull();
		}
	});
});

describe('windows', () => {
	const at = new Date('2026-05-03T09:30:00Z');
	it('is ±10 minutes around the time', () => {
		const w = windowAround(at);
		expect(w.from.toISOString()).toBe('2026-05-03T09:20:00.000Z');
		expect(w.to.toISOString()).toBe('2026-05-03T09:40:00.000Z');
	});
	it('steps by whole windows, so earlier/later neither overlap nor leave gaps', () => {
		expect(step(at, -1).toISOString()).toBe('2026-05-03T09:10:00.000Z');
		expect(windowAround(step(at, 1)).from.getTime()).toBe(windowAround(at).to.getTime());
		expect(windowAround(step(at, -1)).to.getTime()).toBe(windowAround(at).from.getTime());
	});
	it('across midnight', () => {
		const late = parseAt('2026-05-03T23:55') as Date;
		expect(formatAt(windowAround(late).to)).toBe('2026-05-04T00:05');
		expect(formatAt(step(late, 1))).toBe('2026-05-04T00:15');
	});
	it('formats and parses back', () => {
		expect(formatAt(at)).toBe('2026-05-03T09:30');
		expect(parseAt(formatAt(at))?.getTime()).toBe(at.getTime());
	});
	it('shows capture times as their wall clock', () => {
		expect(wallClock('2026-05-03T09:31:45Z')).toBe('09:31:45');
		expect(wallClock('2026-05-03T09:31:45+02:00')).toBe('09:31:45');
		expect(wallClock('2026-05-03T09:31:45.120Z')).toBe('09:31:45');
		expect(wallClock(null)).toBeNull();
		expect(wallClock('yesterday')).toBeNull();
	});
});

describe('links and filters', () => {
	it('builds browse links', () => {
		expect(browseHref('2026-05-03T09:30', null)).toBe('/browse?at=2026-05-03T09%3A30');
		expect(browseHref('2026-05-03T09:30', 'alice', 'c1')).toBe('/browse?at=2026-05-03T09%3A30&photographer=alice&cursor=c1');
	});
	it('accepts photographer names, "" and "all"', () => {
		expect(parsePhotographer(null)).toBeNull();
		expect(parsePhotographer('*')).toBeNull();
		expect(parsePhotographer('alice')).toBe('alice');
		expect(parsePhotographer('')).toBe('');
		expect(parsePhotographer('Team B')).toBe('Team B');
		expect(parsePhotographer('a/b')).toBeUndefined();
		expect(parsePhotographer('x'.repeat(65))).toBeUndefined();
		expect(parsePhotographer('tab\there')).toBeUndefined();
	});
});
