import { describe, expect, it } from 'vitest';
import { browseHref, formatAt, parseAt, parsePhotographer, step, windowAround, zoneOffsetMs } from './timeline';

describe('parseAt', () => {
	it('reads a datetime-local value as wall-clock time in the race zone', () => {
		expect(parseAt('2026-05-03T09:30', 'UTC')?.toISOString()).toBe('2026-05-03T09:30:00.000Z');
		expect(parseAt('2026-05-03T09:30', 'Europe/Berlin')?.toISOString()).toBe('2026-05-03T07:30:00.000Z');
		expect(parseAt('2026-01-10T09:30:15', 'Europe/Berlin')?.toISOString()).toBe('2026-01-10T08:30:15.000Z');
		expect(parseAt('2026-05-03T09:30', 'America/New_York')?.toISOString()).toBe('2026-05-03T13:30:00.000Z');
	});

	it('takes RFC 3339 times with a zone as they are', () => {
		expect(parseAt('2026-05-03T09:30:00Z', 'Europe/Berlin')?.toISOString()).toBe('2026-05-03T09:30:00.000Z');
		expect(parseAt('2026-05-03T09:30:00+02:00', 'UTC')?.toISOString()).toBe('2026-05-03T07:30:00.000Z');
	});

	it('handles the hours around a DST change', () => {
		// Berlin: 29 March 2026 02:00 → 03:00; 03:30 is CEST (UTC+2).
		expect(parseAt('2026-03-29T03:30', 'Europe/Berlin')?.toISOString()).toBe('2026-03-29T01:30:00.000Z');
		expect(parseAt('2026-03-29T01:30', 'Europe/Berlin')?.toISOString()).toBe('2026-03-29T00:30:00.000Z');
	});

	it('refuses what is not a time', () => {
		for (const bad of [null, '', 'noon', '2026-02-30T10:00', '2026-05-03T24:00', '2026-13-01T10:00', '2026-05-03', 'x'.repeat(50)]) {
			expect(parseAt(bad, 'UTC')).toBeNull();
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
	it('formats and parses back in the race zone', () => {
		expect(formatAt(at, 'Europe/Berlin')).toBe('2026-05-03T11:30');
		expect(parseAt(formatAt(at, 'Europe/Berlin'), 'Europe/Berlin')?.getTime()).toBe(at.getTime());
		expect(zoneOffsetMs(at.getTime(), 'UTC')).toBe(0);
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
		expect(parsePhotographer('Bad Name')).toBeUndefined();
	});
});
