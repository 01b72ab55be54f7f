import { describe, expect, it } from 'vitest';
import {
	CODE_INPUT_PATTERN,
	CODE_REGEX,
	checkCode,
	downloadPath,
	normaliseCode,
	participantPath
} from './code';

describe('normaliseCode', () => {
	it('trims and upper-cases ASCII letters', () => {
		expect(normaliseCode('  a-7 \n')).toBe('A-7');
		expect(normaliseCode('10423')).toBe('10423');
		expect(normaliseCode('x_y.z')).toBe('X_Y.Z');
	});

	it('does not turn non-ASCII letters into ASCII ones', () => {
		// "ı".toUpperCase() is "I" and "ß" becomes "SS" in JavaScript.
		expect(normaliseCode('ı1')).toBe('ı1');
		expect(normaliseCode('ß')).toBe('ß');
	});
});

describe('checkCode', () => {
	it.each([
		['10423', '10423'],
		[' 10423 ', '10423'],
		['a-7', 'A-7'],
		['RUN_1.B-2', 'RUN_1.B-2'],
		['9'.repeat(64), '9'.repeat(64)]
	])('accepts %j as %j', (raw, code) => {
		expect(checkCode(raw)).toEqual({ ok: true, code });
	});

	it.each([
		['', /Enter the number/],
		['   ', /Enter the number/],
		['9'.repeat(65), /at most 64/],
		['10 423', /A space can’t be part/],
		['104/23', /“\/” can’t be part/],
		['bib#1', /“#” can’t be part/],
		['ı1', /“ı” can’t be part/],
		['ß', /“ß” can’t be part/],
		['<script>', /“<” can’t be part/]
	])('rejects %j with a message', (raw, message) => {
		const result = checkCode(raw);
		expect(result.ok).toBe(false);
		if (!result.ok) expect(result.message).toMatch(message);
	});

	it('rejects non-strings', () => {
		expect(checkCode(undefined).ok).toBe(false);
		expect(checkCode(42).ok).toBe(false);
		expect(checkCode(null).ok).toBe(false);
	});

	it('agrees with the daemon regex for everything it accepts', () => {
		for (const raw of ['a', 'Z9', '-', '_._', 'abc-DEF_123.x']) {
			const result = checkCode(raw);
			expect(result.ok).toBe(true);
			if (result.ok) expect(CODE_REGEX.test(result.code)).toBe(true);
		}
	});
});

describe('CODE_INPUT_PATTERN (HTML pattern attribute, v flag, whole value)', () => {
	const pattern = new RegExp(`^(?:${CODE_INPUT_PATTERN})$`, 'v');

	it('accepts what checkCode accepts', () => {
		for (const v of ['10423', ' 10423 ', 'a-7', 'x_y.z', '9'.repeat(64)]) {
			expect(pattern.test(v)).toBe(true);
			expect(checkCode(v).ok).toBe(true);
		}
	});

	it('rejects what checkCode rejects', () => {
		for (const v of ['', '10 423', 'bib#1', '9'.repeat(65), 'ı1', 'a/b']) {
			expect(pattern.test(v)).toBe(false);
			expect(checkCode(v).ok).toBe(false);
		}
	});
});

describe('paths', () => {
	it('builds participant and download paths', () => {
		expect(participantPath('10423')).toBe('/p/10423');
		expect(participantPath('A.B-C_1')).toBe('/p/A.B-C_1');
		expect(downloadPath('10423', '9f2c/x y')).toBe('/p/10423/download/9f2c%2Fx%20y');
	});
});
