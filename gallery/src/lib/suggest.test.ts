import { describe, expect, it } from 'vitest';
import { didYouMean, emptyState, photoCount, sentenceText } from './suggest';

describe('did you mean', () => {
	it('says nothing without suggestions', () => {
		expect(didYouMean('10432', [])).toEqual([]);
	});

	it('one suggestion', () => {
		const parts = didYouMean('10432', [{ code: '10423', photos: 5 }]);
		expect(sentenceText(parts)).toBe('No photos for 10432. Did you mean 10423 (5 photos)?');
		expect(parts.filter((p) => 'code' in p)).toEqual([{ code: '10423', label: '10423 (5 photos)' }]);
	});

	it('several, joined with commas and "or", singular for one photo', () => {
		const parts = didYouMean('10432', [
			{ code: '10423', photos: 5 },
			{ code: '10431', photos: 2 },
			{ code: '1042', photos: 1 }
		]);
		expect(sentenceText(parts)).toBe('No photos for 10432. Did you mean 10423 (5 photos), 10431 (2 photos) or 1042 (1 photo)?');
		expect(parts.filter((p) => 'code' in p).map((p) => ('code' in p ? p.code : ''))).toEqual(['10423', '10431', '1042']);
	});

	it('counts photos', () => {
		expect(photoCount(0)).toBe('0 photos');
		expect(photoCount(1)).toBe('1 photo');
		expect(photoCount(12)).toBe('12 photos');
	});
});

describe('empty state by roster', () => {
	it('registered: photos not in yet', () => {
		const s = emptyState('10432', true);
		expect(s.heading).toBe('Your photos are not in yet');
		expect(s.lines.join(' ')).toMatch(/10432 is registered/);
	});
	it('not registered: unknown code', () => {
		expect(emptyState('10432', false).heading).toBe('10432 is not a bib number of this race');
	});
	it('no roster: no photos yet', () => {
		expect(emptyState('10432', null).heading).toBe('No photos yet');
		expect(emptyState('10432', null).lines[0]).toMatch(/^No photos for 10432 yet/);
		// With suggestions the sentence before says it; no repeating.
		expect(emptyState('10432', null, true).lines.join(' ')).not.toMatch(/No photos for/);
	});
});
